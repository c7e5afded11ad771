// A small SVG plot writer for the reports: axes with round-number ticks, lines, filled bands,
// point markers and vertical event markers. No Debian C++ library writes SVG plots, and the
// reports need nothing more. Long series are reduced per pixel column to their first, lowest,
// highest and last points (min/max decimation), so a week of 1 s samples draws in a few
// thousand points and no single-sample spike disappears.
#pragma once
#include <span>
#include <string>
#include <vector>

namespace pumprig::report {

// A data point; a NaN y breaks the line (a gap in the data).
struct PlotPoint {
    double x = 0;
    double y = 0;
};

// Round-number tick positions covering [lo, hi] (steps 1, 2, 2.5 or 5 times a power of ten),
// about `target` of them. lo == hi gives ticks around that value.
std::vector<double> nice_ticks(double lo, double hi, int target = 6);

// Per-column min/max decimation over [x_lo, x_hi] split into `columns` equal columns: for each
// column, its first, lowest, highest and last points in x order (duplicates dropped). Points
// outside [x_lo, x_hi] are dropped; a NaN y inside a column is kept once, after that column's
// points, so gaps survive. Input must be sorted by x.
std::vector<PlotPoint> decimate_min_max(std::span<const PlotPoint> points, double x_lo, double x_hi,
                                        int columns);

// Centred moving mean over `window` (same units as x): each valid point becomes the mean of the
// valid points within window/2 either side of it; a NaN y stays NaN (a gap stays a gap).
// Input must be sorted by x. Linear in the number of points.
std::vector<PlotPoint> moving_mean(std::span<const PlotPoint> points, double window);

// The range of a series per pixel column over [x_lo, x_hi]: for each column, its lowest and
// highest valid y at the column's centre x; a column without valid points is a gap (NaN in
// both). Input must be sorted by x.
struct Envelope {
    std::vector<PlotPoint> lower, upper;
};
Envelope min_max_envelope(std::span<const PlotPoint> points, double x_lo, double x_hi, int columns);

// Event labels set in rows above the plot: greedy, in x order, each label goes into the first
// row whose last label ends at least `gap` before it starts. Returns each label's row, or -1
// when all `max_rows` are taken there (the label is then shown only as the marker's tooltip).
struct LabelExtent {
    double x0 = 0, x1 = 0;  // horizontal extent in pixels
    bool priority = false;  // placed before the others (alarms)
};
std::vector<int> assign_label_rows(std::span<const LabelExtent> labels, int max_rows, double gap = 6);

class SvgPlot {
public:
    SvgPlot(std::string title, std::string x_label, std::string y_label, int width = 960, int height = 340);

    // Fixed axis ranges; by default both come from the data (y padded by 5 %).
    void set_x_range(double lo, double hi);
    void set_y_range(double lo, double hi);
    void include_zero(bool yes) { include_zero_ = yes; }

    // css_class picks the colour (report CSS: series-measured, series-expected, band, ...);
    // the legend text is escaped when rendered.
    void line(std::vector<PlotPoint> points, std::string css_class, std::string legend);
    void band(std::vector<PlotPoint> lower, std::vector<PlotPoint> upper, std::string css_class, std::string legend);
    void dots(std::vector<PlotPoint> points, std::string css_class, std::string legend);
    // A vertical line at x with a tooltip; labelled when `show_label`, horizontally in a strip of
    // label rows above the frame (assign_label_rows), so labels never overprint each other, the
    // data or an axis; the svg grows by one row height per row used.
    void marker(double x, std::string label, std::string css_class, bool show_label = true);
    static constexpr int kLabelRowHeight = 14, kMaxLabelRows = 6;
    static constexpr double kLabelCharWidth = 6.6;  // 11 px DejaVu Sans, generous

    // The <svg> element (no XML prolog: it is inlined in HTML).
    std::string render() const;

    int plot_width() const { return width_ - kLeft - kRight; }
    int plot_height() const { return height_ - kTop - kBottom; }
    static constexpr int kLeft = 72, kRight = 16, kTop = 30, kBottom = 46;

private:
    struct Series {
        enum class Kind { Line, Band, Dots } kind;  // a Band with lower/upper at the same x breaks at NaN
        std::vector<PlotPoint> points;
        std::vector<PlotPoint> upper;  // Band only
        std::string css_class;
        std::string legend;
    };
    struct Marker {
        double x;
        std::string label;
        std::string css_class;
        bool show_label;
    };
    std::string title_, x_label_, y_label_;
    int width_, height_;
    bool x_fixed_ = false, y_fixed_ = false, include_zero_ = false;
    double x_lo_ = 0, x_hi_ = 1, y_lo_ = 0, y_hi_ = 1;
    std::vector<Series> series_;
    std::vector<Marker> markers_;
};

}  // namespace pumprig::report
