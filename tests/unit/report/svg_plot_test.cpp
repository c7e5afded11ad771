#include <doctest/doctest.h>

#include <cmath>
#include <regex>
#include <string>
#include <vector>

#include "report/svg_plot.hpp"

using namespace pumprig::report;

namespace {

// Every (x, y) pair of the d attribute of each <path class="cls">.
std::vector<std::pair<double, double>> path_points(const std::string& svg, const std::string& cls) {
    std::vector<std::pair<double, double>> out;
    const std::regex path("<path class=\"" + cls + "\" d=\"([^\"]*)\"");
    for (auto it = std::sregex_iterator(svg.begin(), svg.end(), path); it != std::sregex_iterator(); ++it) {
        const std::string d = (*it)[1];
        const std::regex pt("[ML](-?[0-9.]+) (-?[0-9.]+)");
        for (auto p = std::sregex_iterator(d.begin(), d.end(), pt); p != std::sregex_iterator(); ++p)
            out.emplace_back(std::stod((*p)[1]), std::stod((*p)[2]));
    }
    return out;
}

}  // namespace

TEST_CASE("nice_ticks chooses round steps that cover the range") {
    CHECK(nice_ticks(0, 10, 5) == std::vector<double>{0, 2, 4, 6, 8, 10});
    CHECK(nice_ticks(0, 1, 4) == std::vector<double>{0, 0.25, 0.5, 0.75, 1});
    const auto t = nice_ticks(-3.2, 47.9, 6);
    REQUIRE(t.size() >= 4);
    CHECK(t.front() >= -3.2);
    CHECK(t.back() <= 47.9);
    CHECK(t[1] - t[0] == doctest::Approx(10));
    const auto flat = nice_ticks(5, 5, 6);  // a constant series still gets an axis
    REQUIRE(flat.size() >= 2);
    CHECK(flat.front() <= 5);
    CHECK(flat.back() >= 5);
    CHECK(nice_ticks(0, std::nan(""), 5).empty());
}

TEST_CASE("decimate_min_max keeps first, lowest, highest and last of each column") {
    std::vector<PlotPoint> pts;
    for (int i = 0; i < 100; ++i) pts.push_back({static_cast<double>(i), static_cast<double>(i % 10)});
    pts[37].y = -50;
    pts[64].y = 80;
    const auto d = decimate_min_max(pts, 0, 99, 10);
    CHECK(d.size() <= 40);
    bool low = false, high = false;
    for (const auto& p : d) {
        low = low || (p.x == 37 && p.y == -50);
        high = high || (p.x == 64 && p.y == 80);
    }
    CHECK(low);
    CHECK(high);
    for (std::size_t i = 1; i < d.size(); ++i) CHECK(d[i].x >= d[i - 1].x);  // still in x order
}

TEST_CASE("decimate_min_max keeps gaps as NaN points") {
    std::vector<PlotPoint> pts;
    for (int i = 0; i < 1000; ++i) pts.push_back({static_cast<double>(i), i >= 400 && i < 410 ? std::nan("") : 1.0});
    const auto d = decimate_min_max(pts, 0, 999, 50);
    int gaps = 0;
    for (const auto& p : d) gaps += std::isnan(p.y);
    CHECK(gaps >= 1);
}

TEST_CASE("a single 1-sample spike in a week of 1 s samples still appears in the drawn path") {
    constexpr std::size_t kWeek = 604'800;
    std::vector<PlotPoint> pts;
    pts.reserve(kWeek);
    for (std::size_t i = 0; i < kWeek; ++i) pts.push_back({static_cast<double>(i) / 3600.0, 83.3});
    const std::size_t spike = 431'017;  // one sample, nowhere special
    pts[spike].y = 500.0;
    SvgPlot plot("Flow", "hours", "uL/h");
    plot.set_x_range(0, kWeek / 3600.0);
    plot.set_y_range(0, 500);
    plot.line(pts, "series-measured", "meter flow");
    const std::string svg = plot.render();
    const auto drawn = path_points(svg, "series-measured");
    CHECK(drawn.size() < 5 * static_cast<std::size_t>(plot.plot_width()));  // decimated
    CHECK(drawn.size() > 2);
    // y = 500 is the top of the frame; the spike's column must reach it, at its x.
    const double spike_x = SvgPlot::kLeft + (pts[spike].x / (kWeek / 3600.0)) * plot.plot_width();
    bool found = false;
    for (const auto& [x, y] : drawn) found = found || (std::abs(y - SvgPlot::kTop) < 0.11 && std::abs(x - spike_x) < 1.0);
    CHECK(found);
    // The rest of the line sits at 83.3.
    const double base_y = SvgPlot::kTop + (500 - 83.3) / 500.0 * plot.plot_height();
    std::size_t at_base = 0;
    for (const auto& [x, y] : drawn) at_base += std::abs(y - base_y) < 0.11;
    CHECK(at_base + 1 >= drawn.size() - 2);
}

TEST_CASE("a NaN breaks the drawn line into two sub-paths") {
    SvgPlot plot("t", "x", "y");
    plot.line({{0, 1}, {1, 2}, {2, std::nan("")}, {3, 2}, {4, 1}}, "series-measured", "");
    const std::string svg = plot.render();
    const std::regex path("<path class=\"series-measured\" d=\"([^\"]*)\"");
    std::smatch m;
    REQUIRE(std::regex_search(svg, m, path));
    const std::string d = m[1];
    CHECK(std::count(d.begin(), d.end(), 'M') == 2);
    CHECK(std::count(d.begin(), d.end(), 'L') == 2);
}

TEST_CASE("the plot escapes its titles, legends and marker labels") {
    SvgPlot plot("<b>title</b>", "x & more", "y \"quoted\"");
    plot.line({{0, 0}, {1, 1}}, "series-measured", "<script>alert(1)</script>");
    plot.marker(0.5, "ALARM code=<img src=x onerror=alert(1)>", "marker-alarm");
    const std::string svg = plot.render();
    CHECK(svg.find("<script>") == std::string::npos);
    CHECK(svg.find("<img") == std::string::npos);
    CHECK(svg.find("<b>") == std::string::npos);
    CHECK(svg.find("&lt;script&gt;alert(1)&lt;/script&gt;") != std::string::npos);
    CHECK(svg.find("ALARM code=&lt;img src=x onerror=alert(1)&gt;") != std::string::npos);
    CHECK(svg.find("x &amp; more") != std::string::npos);
}

TEST_CASE("the plot draws ticks, a band and dots") {
    SvgPlot plot("t", "hours", "uL");
    plot.set_x_range(0, 10);
    plot.band({{0, 0}, {10, 90}}, {{0, 10}, {10, 110}}, "band", "tolerance");
    plot.dots({{5, 50}}, "series-max", "");
    const std::string svg = plot.render();
    CHECK(svg.find("<path class=\"band\" d=\"M") != std::string::npos);
    CHECK(svg.find("<circle class=\"series-max\"") != std::string::npos);
    CHECK(svg.find(">10</text>") != std::string::npos);  // an x tick label
    CHECK(svg.find("tolerance") != std::string::npos);
}

TEST_CASE("moving_mean of a known series: a centred window, gaps kept") {
    // y = x on 0..10 step 1; window 4 takes x-2..x+2, clipped at the ends.
    std::vector<PlotPoint> pts;
    for (int i = 0; i <= 10; ++i) pts.push_back({static_cast<double>(i), static_cast<double>(i)});
    auto m = moving_mean(pts, 4);
    REQUIRE(m.size() == pts.size());
    CHECK(m[0].y == doctest::Approx(1.0));   // mean of 0, 1, 2
    CHECK(m[1].y == doctest::Approx(1.5));   // 0..3
    CHECK(m[5].y == doctest::Approx(5.0));   // 3..7
    CHECK(m[10].y == doctest::Approx(9.0));  // 8, 9, 10
    for (std::size_t i = 0; i < m.size(); ++i) CHECK(m[i].x == pts[i].x);
    // Alternating noise +-10 around 100 averages out; a NaN sample stays a gap and is not counted.
    std::vector<PlotPoint> noisy;
    for (int i = 0; i < 100; ++i) noisy.push_back({static_cast<double>(i), 100.0 + (i % 2 ? 10.0 : -10.0)});
    noisy[50].y = std::nan("");
    m = moving_mean(noisy, 10);
    CHECK(std::isnan(m[50].y));
    for (int i = 20; i < 80; ++i)
        if (i != 50) CHECK(std::abs(m[i].y - 100.0) <= 2.0);
}

TEST_CASE("min_max_envelope gives each column's range and a gap where a column has no data") {
    std::vector<PlotPoint> pts;
    for (int i = 0; i < 100; ++i) pts.push_back({static_cast<double>(i), i >= 40 && i < 60 ? std::nan("") : static_cast<double>(i % 10)});
    const auto e = min_max_envelope(pts, 0, 100, 5);  // columns of 20
    REQUIRE(e.lower.size() == 5);
    REQUIRE(e.upper.size() == 5);
    CHECK(e.lower[0].y == 0);
    CHECK(e.upper[0].y == 9);
    CHECK(e.lower[0].x == doctest::Approx(10));
    CHECK(std::isnan(e.lower[2].y));
    CHECK(std::isnan(e.upper[2].y));
    // Drawn as a band, the gap splits it into two polygons.
    SvgPlot plot("t", "x", "y");
    plot.set_x_range(0, 100);
    plot.band(e.lower, e.upper, "band-raw", "raw");
    const std::string svg = plot.render();
    const auto at = svg.find("<path class=\"band-raw\" d=\"");
    REQUIRE(at != std::string::npos);
    const std::string d = svg.substr(at, svg.find("\"/>", at) - at);
    CHECK(std::count(d.begin(), d.end(), 'Z') == 2);
}

TEST_CASE("assign_label_rows never puts two overlapping labels in one row") {
    // 60 labels 80 px wide, 5 px apart: crowded far beyond what one row holds.
    std::vector<LabelExtent> labels;
    for (int i = 0; i < 60; ++i) labels.push_back({100.0 + 5 * i, 180.0 + 5 * i, i == 37});
    const auto rows = assign_label_rows(labels, 6, 6);
    REQUIRE(rows.size() == labels.size());
    int shown = 0;
    for (std::size_t a = 0; a < labels.size(); ++a) {
        CHECK(rows[a] < 6);
        if (rows[a] < 0) continue;
        ++shown;
        for (std::size_t b = a + 1; b < labels.size(); ++b)
            if (rows[b] == rows[a]) CHECK((labels[a].x1 + 6 <= labels[b].x0 || labels[b].x1 + 6 <= labels[a].x0));
    }
    CHECK(shown >= 6);      // every row used
    CHECK(rows[37] == 0);   // the priority label (an alarm) is placed first
    // Labels far apart share the first row.
    const std::vector<LabelExtent> sparse = {{0, 50}, {100, 150}, {200, 250}};
    CHECK(assign_label_rows(sparse, 6) == std::vector<int>{0, 0, 0});
}

TEST_CASE("crowded event labels are drawn above the frame, inside its width, without overlapping") {
    SvgPlot plot("Flow", "hours", "uL/h");
    plot.set_x_range(0, 1);
    plot.line({{0, 1}, {1, 1}}, "series-measured", "");
    for (int i = 0; i < 25; ++i) plot.marker(0.02 * i, "BOLUS_START n=" + std::to_string(i), "marker-event");
    plot.marker(0.999, "ALARM code=OCCLUSION state=SET", "marker-alarm");
    const std::string svg = plot.render();
    const std::regex label("<text class=\"marker-label\" x=\"(-?[0-9.]+)\" y=\"(-?[0-9.]+)\">([^<]*)</text>");
    const std::regex frame("<rect class=\"frame\" x=\"[0-9]+\" y=\"([0-9]+)\"");
    std::smatch fm;
    REQUIRE(std::regex_search(svg, fm, frame));
    const double frame_top = std::stod(fm[1]);
    struct Box { double x0, x1, y; };
    std::vector<Box> boxes;
    for (auto it = std::sregex_iterator(svg.begin(), svg.end(), label); it != std::sregex_iterator(); ++it) {
        const double x = std::stod((*it)[1]), y = std::stod((*it)[2]);
        const double w = SvgPlot::kLabelCharWidth * static_cast<double>((*it)[3].length());
        boxes.push_back({x, x + w, y});
        CHECK(y < frame_top);                          // above the frame: never on the data or the x axis
        CHECK(y - 11 > SvgPlot::kTop - 4);             // below the title and legend
        CHECK(x >= SvgPlot::kLeft);                    // clear of the y axis labels
        CHECK(x + w <= SvgPlot::kLeft + plot.plot_width() + 1);
    }
    CHECK(boxes.size() >= 6);
    CHECK(svg.find(">ALARM code=OCCLUSION state=SET</text>") != std::string::npos);  // the alarm is always labelled
    for (std::size_t a = 0; a < boxes.size(); ++a)
        for (std::size_t b = a + 1; b < boxes.size(); ++b)
            if (boxes[a].y == boxes[b].y) CHECK((boxes[a].x1 <= boxes[b].x0 || boxes[b].x1 <= boxes[a].x0));
}
