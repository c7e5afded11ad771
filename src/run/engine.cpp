// The run engine: see engine.hpp.
