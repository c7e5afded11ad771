// Run record views: see record.hpp.
