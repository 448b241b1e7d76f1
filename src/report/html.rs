//! report.html: one self-contained page (no scripts, no outside fonts or
//! files) with the totals table, the discrepancies, the signals and the
//! charts analysts look at, drawn by plotters as inline SVG: party shares
//! per level, the turnout histogram per level, and the election-forensics
//! scatter of turnout against the leading party's share per station.

use std::fmt::Write as _;
use std::sync::Once;

use anyhow::{anyhow, Result};
use plotters::prelude::*;

use super::{CountedStation, LevelTotals, Report};
use crate::model::FormModel;

/// Chart sizes in SVG pixels.
const SMALL_CHART: (u32, u32) = (420, 300);
const SCATTER_CHART: (u32, u32) = (720, 520);
/// Turnout histogram bin width, in percentage points.
const TURNOUT_BIN: u32 = 5;
/// One colour per level column, in order (colour-blind-safe Okabe–Ito).
const LEVEL_COLOURS: [RGBColor; 6] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(213, 94, 0),
];
/// The family plotters measures and names in the SVG text.
const CHART_FONT: &str = "sans-serif";
/// DejaVu Sans, compiled in, for the charts' text: measured the same on
/// every machine, whatever fonts it has (synth prints with it too).
pub static CHART_FONT_BYTES: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = plotters::style::register_font(CHART_FONT, FontStyle::Normal, CHART_FONT_BYTES);
    });
}

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn colour(i: usize) -> RGBColor {
    LEVEL_COLOURS[i % LEVEL_COLOURS.len()]
}

fn plot_error<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow!("cannot draw a chart: {e:?}")
}

/// Bars of each party's share (and spoiled) at one level.
fn shares_chart(model: &FormModel, level: &LevelTotals, i: usize) -> Result<String> {
    let mut svg = String::new();
    let mut names: Vec<String> = model.report.parties.iter().map(|p| model.report.name(p)).collect();
    names.push("spoiled".into());
    let shares = level.shares();
    let values: Vec<f64> = model
        .report
        .parties
        .iter()
        .map(String::as_str)
        .chain(["spoiled"])
        .map(|k| shares.get(k).copied().flatten().unwrap_or(0.0))
        .collect();
    let top = values.iter().cloned().fold(10.0, f64::max) * 1.15;
    {
        let root = SVGBackend::with_string(&mut svg, SMALL_CHART).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(format!("{}: shares of ballots cast", model.report.name(&level.election)), (CHART_FONT, 16))
            .margin(8)
            .x_label_area_size(36)
            .y_label_area_size(44)
            .build_cartesian_2d((0..names.len() - 1).into_segmented(), 0.0..top)
            .map_err(plot_error)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .y_desc("%")
            .x_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => names.get(*i).cloned().unwrap_or_default(),
                _ => String::new(),
            })
            .label_style((CHART_FONT, 12))
            .draw()
            .map_err(plot_error)?;
        chart
            .draw_series(
                Histogram::vertical(&chart)
                    .style(colour(i).filled())
                    .margin(6)
                    .data(values.iter().enumerate().map(|(x, v)| (x, *v))),
            )
            .map_err(plot_error)?;
        root.present().map_err(plot_error)?;
    }
    Ok(svg)
}

/// Histogram of station turnout at one level.
fn turnout_chart(model: &FormModel, level: &LevelTotals, stations: &[&CountedStation], i: usize) -> Result<String> {
    let mut svg = String::new();
    let bins = 100 / TURNOUT_BIN;
    let mut counts = vec![0u32; bins as usize];
    for t in stations.iter().filter_map(|s| s.turnout()) {
        let bin = ((t.min(99.999) / TURNOUT_BIN as f64) as usize).min(bins as usize - 1);
        counts[bin] += 1;
    }
    let top = counts.iter().copied().max().unwrap_or(0).max(1) + 1;
    {
        let root = SVGBackend::with_string(&mut svg, SMALL_CHART).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(format!("{}: turnout per station", model.report.name(&level.election)), (CHART_FONT, 16))
            .margin(8)
            .x_label_area_size(36)
            .y_label_area_size(40)
            .build_cartesian_2d((0u32..100u32).step(TURNOUT_BIN).use_round().into_segmented(), 0u32..top)
            .map_err(plot_error)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_desc("turnout, %")
            .y_desc("stations")
            .label_style((CHART_FONT, 12))
            .draw()
            .map_err(plot_error)?;
        chart
            .draw_series(
                Histogram::vertical(&chart)
                    .style(colour(i).filled())
                    .margin(1)
                    .data(counts.iter().enumerate().map(|(b, c)| (b as u32 * TURNOUT_BIN, *c))),
            )
            .map_err(plot_error)?;
        root.present().map_err(plot_error)?;
    }
    Ok(svg)
}

/// Turnout against the leading party's share, one point per station.
fn scatter_chart(model: &FormModel, report: &Report) -> Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SCATTER_CHART).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let mut chart = ChartBuilder::on(&root)
            .caption("Turnout and the leading party's share, per station", (CHART_FONT, 16))
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(48)
            .build_cartesian_2d(0.0..100.0, 0.0..100.0)
            .map_err(plot_error)?;
        chart
            .configure_mesh()
            .x_desc("turnout (issued / voters), %")
            .y_desc("leading party's share of ballots cast, %")
            .label_style((CHART_FONT, 12))
            .draw()
            .map_err(plot_error)?;
        for (i, level) in report.levels.iter().enumerate() {
            let Some(leader) = level.leader() else { continue };
            let points: Vec<(f64, f64)> = report
                .stations
                .iter()
                .filter(|s| s.election == level.election)
                .filter_map(|s| Some((s.turnout()?.min(100.0), s.share(leader)?)))
                .collect();
            let c = colour(i);
            chart
                .draw_series(points.into_iter().map(|p| Circle::new(p, 4, c.mix(0.75).filled())))
                .map_err(plot_error)?
                .label(format!("{} ({})", model.report.name(&level.election), model.report.name(leader)))
                .legend(move |(x, y)| Circle::new((x + 6, y), 5, c.filled()));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .position(SeriesLabelPosition::UpperLeft)
            .border_style(BLACK)
            .label_font((CHART_FONT, 13))
            .draw()
            .map_err(plot_error)?;
        root.present().map_err(plot_error)?;
    }
    Ok(svg)
}

const STYLE: &str = "body{font:15px/1.45 system-ui,'DejaVu Sans',sans-serif;color:#15181c;max-width:1200px;margin:24px auto;padding:0 16px}\
h1{font-size:24px}h2{font-size:19px;margin-top:28px;border-bottom:2px solid #1d2430}\
table{border-collapse:collapse;margin:8px 0}td,th{padding:4px 10px;border-bottom:1px solid #dde}\
th{text-align:right;background:#f1f3f6}td.num{text-align:right;font-variant-numeric:tabular-nums}\
tr.sep td{border-top:2px solid #1d2430}.note{color:#5b6470}.diff{color:#b3261e;font-weight:600}\
.charts{display:flex;flex-wrap:wrap;gap:12px}.charts svg{border:1px solid #dde}ul{margin:4px 0}";

/// The whole page.
pub fn render(model: &FormModel, report: &Report) -> Result<String> {
    register_font();
    let mut h = String::new();
    let _ = write!(
        h,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Observed totals · {}</title><style>{STYLE}</style></head><body>",
        escape(&model.name)
    );
    let _ = write!(h, "<h1>Observed totals</h1><p>{}</p>", escape(&report.coverage_sentence()));

    h.push_str("<table><tr><th></th>");
    for level in &report.levels {
        let _ = write!(h, "<th>{}</th>", escape(&model.report.name(&level.election)));
    }
    h.push_str("</tr>");
    let separator = 4 + model.report.parties.len() + 1;
    for (i, (label, cells)) in report.table_rows(model).iter().enumerate() {
        let class = if i == separator { " class=\"sep\"" } else { "" };
        let _ = write!(h, "<tr{class}><td>{}</td>", escape(label));
        for c in cells {
            let _ = write!(h, "<td class=\"num\">{}</td>", escape(c));
        }
        h.push_str("</tr>");
    }
    h.push_str("</table><p class=\"note\">Party and spoiled shares are of the ballots cast (all votes + spoiled); turnout is issued / voters on the lists; unused is unused / received.</p>");

    if let Some(official) = &report.official {
        let _ = write!(
            h,
            "<h2>Differences from the official figures</h2><p>{} stations in both sources; {} differ in {} lines.</p>",
            official.stations_in_both,
            official.stations_differing,
            official.discrepancies.len()
        );
        if !official.discrepancies.is_empty() {
            h.push_str("<table><tr><th>level</th><th>station</th><th>line</th><th>observed</th><th>official</th><th>official − observed</th></tr>");
            for d in &official.discrepancies {
                let _ = write!(
                    h,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num diff\">{}</td></tr>",
                    escape(&model.report.name(&d.election)),
                    escape(&d.station),
                    escape(&d.line),
                    d.observed,
                    d.official.map(|o| o.to_string()).unwrap_or_else(|| "not published".into()),
                    d.difference.map(|d| format!("{d:+}")).unwrap_or_default()
                );
            }
            h.push_str("</table>");
        }
        for (election, lines) in &official.totals {
            let parts: Vec<String> = lines.iter().map(|(k, v)| format!("{} {v:+}", escape(k))).collect();
            let _ = write!(h, "<p>Total, {}: {}</p>", escape(&model.report.name(election)), parts.join(", "));
        }
        for (title, list) in [
            ("Only in the observers' data", &official.only_observed),
            ("Only in the official figures", &official.only_official),
        ] {
            if !list.is_empty() {
                let items: Vec<String> = list
                    .iter()
                    .map(|s| format!("<li>{} {} — {}</li>", escape(&s.election), escape(&s.station), escape(&s.note)))
                    .collect();
                let _ = write!(h, "<p>{title}:</p><ul>{}</ul>", items.join(""));
            }
        }
    }

    h.push_str("<h2>Signals (reasons to look, not verdicts)</h2>");
    for level in &report.levels {
        if let Some(signals) = report.signals.get(&level.election) {
            let text = signals.render(&model.report.name(&level.election));
            let _ = write!(h, "<pre>{}</pre>", escape(text.trim()));
        }
    }

    h.push_str("<h2>Charts</h2><div class=\"charts\">");
    for (i, level) in report.levels.iter().enumerate() {
        let stations: Vec<&CountedStation> = report.stations.iter().filter(|s| s.election == level.election).collect();
        h.push_str(&shares_chart(model, level, i)?);
        h.push_str(&turnout_chart(model, level, &stations, i)?);
    }
    h.push_str("</div><div class=\"charts\">");
    h.push_str(&scatter_chart(model, report)?);
    h.push_str("</div>");

    h.push_str("<h2>Not in the totals</h2>");
    let groups = [
        ("Pending review", &report.pending),
        ("Rejected", &report.rejected),
        ("Verified, but not countable", &report.left_out),
    ];
    for (title, list) in groups {
        let _ = write!(h, "<p>{title}: {}</p>", list.len());
        if !list.is_empty() {
            let items: Vec<String> = list
                .iter()
                .map(|l| {
                    format!(
                        "<li>{} ({} {}): {}</li>",
                        escape(&l.file),
                        escape(l.election.as_deref().unwrap_or("?")),
                        escape(l.station.as_deref().unwrap_or("?")),
                        escape(&l.why)
                    )
                })
                .collect();
            let _ = write!(h, "<ul>{}</ul>", items.join(""));
        }
    }
    if !report.unresolved.is_empty() {
        let items: Vec<String> = report
            .unresolved
            .iter()
            .map(|u| {
                format!("<li>{} {}: {}</li>", escape(&u.election), escape(&u.station), escape(&u.files.join(", ")))
            })
            .collect();
        let _ = write!(h, "<p>Stations whose photos still disagree:</p><ul>{}</ul>", items.join(""));
    }
    if let Some(evidence) = &report.evidence {
        let warning = if evidence.intact() {
            String::new()
        } else {
            "<p class=\"diff\">The evidence does not check out (results edited or the decision log broken): run \
             <code>protocol-ocr verify</code> before trusting these totals.</p>"
                .to_string()
        };
        let _ = write!(
            h,
            "{warning}<p class=\"note\" id=\"evidence\">Evidence head <code>{}</code>: the photos, the figures read \
             and the {} reviewers' decisions these totals come from. Anyone holding it can check a copy of the \
             output with <code>protocol-ocr verify OUT_DIR --head {}</code>.</p>",
            escape(&evidence.head),
            evidence.decisions,
            escape(&evidence.head)
        );
    }
    let _ = write!(
        h,
        "<p class=\"note\">Form model {} (SHA-256 {}).</p></body></html>",
        escape(&model.id),
        escape(&model.sha256)
    );
    Ok(h)
}
