//! The fonts the synthetic forms are printed with (lab builds only: the
//! `lab` feature).
//!
//! They are compiled into the binary (from `assets/fonts/`, freely licensed,
//! licences beside them) so that `synth` draws the same pixels for the same
//! seed on every machine, whatever fonts the system has installed. DejaVu
//! Sans is the report's chart font, compiled in by `report`.

use ab_glyph::FontRef;

/// A typeface family used to print a form: regular text and bold headings.
pub struct Family {
    pub name: &'static str,
    pub regular: FontRef<'static>,
    pub bold: FontRef<'static>,
}

static DEJAVU_SANS: &[u8] = crate::report::html::CHART_FONT_BYTES;
static DEJAVU_SANS_BOLD: &[u8] = include_bytes!("../assets/fonts/DejaVuSans-Bold.ttf");
static DEJAVU_SERIF: &[u8] = include_bytes!("../assets/fonts/DejaVuSerif.ttf");
static LIBERATION_SERIF: &[u8] = include_bytes!("../assets/fonts/LiberationSerif-Regular.ttf");
static LIBERATION_SERIF_BOLD: &[u8] = include_bytes!("../assets/fonts/LiberationSerif-Bold.ttf");

static HAND_DKG: &[u8] = include_bytes!("../assets/fonts/handwriting/dkg.ttf");
static HAND_DKG_BOLD: &[u8] = include_bytes!("../assets/fonts/handwriting/dkgBd.ttf");
static HAND_HUMOR_SANS: &[u8] = include_bytes!("../assets/fonts/handwriting/Humor-Sans.ttf");
static HAND_BREIP: &[u8] = include_bytes!("../assets/fonts/handwriting/Breip.ttf");
static HAND_CONNECT: &[u8] = include_bytes!("../assets/fonts/handwriting/BecauseWeConnect-Regular.otf");
static HAND_ORGANIZE: &[u8] = include_bytes!("../assets/fonts/handwriting/BecauseWeOrganize-Regular.otf");

/// A handwriting-style face: digits that look written with a pen.
pub struct HandFace {
    pub name: &'static str,
    pub font: FontRef<'static>,
    /// Whether `train-digits` trains on it; the others are kept back to
    /// measure the glyph network on handwriting it never saw.
    pub trained: bool,
}

/// The handwriting faces `synth --handwritten` writes some counts in,
/// besides MNIST's real handwriting (from Debian's fonts-dkg-handwriting,
/// fonts-humor-sans, fonts-breip and fonts-bwht; licences in
/// `assets/fonts/handwriting/`).
pub fn hand_faces() -> Vec<HandFace> {
    [
        ("DKG Handwriting", HAND_DKG, true),
        ("DKG Handwriting Bold", HAND_DKG_BOLD, true),
        ("Humor Sans", HAND_HUMOR_SANS, true),
        ("Breip", HAND_BREIP, false),
        ("Because We Connect", HAND_CONNECT, true),
        ("Because We Organize", HAND_ORGANIZE, false),
    ]
    .into_iter()
    .map(|(name, bytes, trained)| HandFace { name, font: font(bytes), trained })
    .collect()
}

fn font(bytes: &'static [u8]) -> FontRef<'static> {
    FontRef::try_from_slice(bytes).expect("bundled font is a valid TrueType file")
}

/// The families `synth` chooses from.
pub fn synth_families() -> Vec<Family> {
    vec![
        Family { name: "DejaVu Sans", regular: font(DEJAVU_SANS), bold: font(DEJAVU_SANS_BOLD) },
        Family { name: "Liberation Serif", regular: font(LIBERATION_SERIF), bold: font(LIBERATION_SERIF_BOLD) },
    ]
}

/// A family `synth` never uses, for tests that the reader does not depend on
/// the synthetic printing.
pub fn other_family() -> Family {
    Family { name: "DejaVu Serif", regular: font(DEJAVU_SERIF), bold: font(DEJAVU_SANS_BOLD) }
}
