//! The `protocol-ocr` command line: parses arguments, calls the library,
//! prints, and turns outcomes into exit codes.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use clap::{Parser, Subcommand};
use protocol_ocr::model::FormModel;
#[cfg(feature = "lab")]
use protocol_ocr::synth;
use protocol_ocr::{eval, scan, verify};

/// Exit code for bad usage or an unusable input directory or model.
const EXIT_USAGE: u8 = 2;
/// Exit code of `verify` when anything changed.
const EXIT_CHANGED: u8 = 1;
/// Exit code of a scan stopped by Ctrl-C (128 + SIGINT, as shells report it).
const EXIT_INTERRUPTED: u8 = 130;

#[derive(Parser)]
#[command(
    name = "protocol-ocr",
    version,
    about = "Reads photos of precinct election protocols, checks their arithmetic and reports the totals."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Read every file under IN_DIR and write OUT_DIR/results.jsonl, results.csv, summary.json and manifest.json.
    ///
    /// Each result is saved to OUT_DIR/journal.jsonl as it is made: after an interruption (Ctrl-C, a crash,
    /// kill -9) the same command resumes, reading only the files not done yet (or changed since).
    ///
    /// Exit codes: 0 the run completed (flagged and failed files are results, not errors);
    /// 2 bad usage, an unusable input folder or model; 130 interrupted by Ctrl-C (what was done is saved).
    Scan {
        /// Folder of protocol photos (searched recursively).
        in_dir: PathBuf,
        /// Folder for the outputs (created if needed).
        #[arg(long)]
        out: PathBuf,
        /// Form model file (default: the bundled Kazakhstan 2021 model).
        #[arg(long)]
        model: Option<PathBuf>,
        /// Worker threads (default: the number of cores).
        #[arg(long)]
        jobs: Option<usize>,
        /// Follow symbolic links inside IN_DIR (default: list them as not followed).
        #[arg(long)]
        follow_symlinks: bool,
        /// Write each photo's normalised page with the found lines outlined into DIR.
        #[arg(long, value_name = "DIR")]
        debug_dir: Option<PathBuf>,
        /// No progress bar and no summary on the terminal.
        #[arg(short, long)]
        quiet: bool,
    },
    /// Score RESULTS.jsonl against synth's TRUTH.jsonl.
    Eval {
        #[arg(long)]
        truth: PathBuf,
        #[arg(long)]
        results: PathBuf,
        /// Print the scores as one JSON object instead of a table.
        #[arg(long)]
        json: bool,
        /// Also list every photo: its status, values right / wrong / not read, whether the station
        /// was read right, and its flags; photos accepted with a wrong value first, with the values.
        #[arg(long)]
        per_photo: bool,
    },
    /// Print the observed totals per election level and write OUT_DIR/report.json, report.csv, report.html.
    ///
    /// Built from the verified data set only: protocols accepted by the scan and those confirmed or
    /// corrected by a reviewer. Pending and rejected ones are counted and listed, never added in; a
    /// station photographed twice is counted once. With --official, every line where the official
    /// figures differ from the observers' is listed with the difference. The official CSV: UTF-8, a
    /// header row with `election`, `station`, then one column per line key (voters_on_list,
    /// ballots_received, ballots_issued, ballots_unused, ballots_spoiled) and party key (nur_otan, … or
    /// votes.nur_otan, …).
    ///
    /// Exit codes: 0 the report was written; 2 bad usage, no scan output, or an unreadable official CSV.
    Report {
        /// The output folder of a scan.
        out_dir: PathBuf,
        /// Official figures to compare with (CSV, see above).
        #[arg(long, value_name = "FILE.csv")]
        official: Option<PathBuf>,
        /// Form model file (default: the bundled Kazakhstan 2021 model).
        #[arg(long)]
        model: Option<PathBuf>,
        /// Write report.json, report.csv and report.html into DIR instead of OUT_DIR (for an
        /// archived, write-protected OUT_DIR, which is only read).
        #[arg(long, value_name = "DIR")]
        to: Option<PathBuf>,
    },
    /// Start the reviewers' web page for OUT_DIR (a scan's output folder).
    ///
    /// Reviewers confirm, correct or reject flagged protocols; every decision is appended to a
    /// hash-chained log in OUT_DIR/review.db. The address is printed at start. Binding anything but
    /// loopback needs a token (--token or PROTOCOL_OCR_TOKEN); the page is then opened with ?token=….
    ///
    /// Exit codes: 0 stopped normally (or --export done); 2 bad usage, no scan output, or the address
    /// cannot be used.
    Review {
        /// The output folder of a scan.
        out_dir: PathBuf,
        /// Address to listen on.
        #[arg(long, default_value = protocol_ocr::review::web::DEFAULT_BIND)]
        bind: std::net::SocketAddr,
        /// Access token required on every request (needed for a non-loopback address).
        #[arg(long, env = "PROTOCOL_OCR_TOKEN", hide_env_values = true)]
        token: Option<String>,
        /// Form model file (default: the bundled Kazakhstan 2021 model).
        #[arg(long)]
        model: Option<PathBuf>,
        /// Write OUT_DIR/verified.jsonl and verified.csv (the verified data set) and exit.
        #[arg(long)]
        export: bool,
    },
    /// Re-hash the inputs and the review log and say what changed since the scan.
    ///
    /// Compares every file under the input folder with OUT_DIR/manifest.json (added, missing, altered),
    /// checks the manifest's root hash, that results.jsonl is the file the scan wrote, the reviewers'
    /// decision log's hash chain (which starts from the manifest's root), and every evidence head
    /// published earlier. Prints the evidence head to publish now. Never writes to OUT_DIR.
    ///
    /// Exit codes: 0 nothing changed; 1 something changed (listed); 2 bad usage or no manifest.
    Verify {
        /// The output folder of a scan.
        out_dir: PathBuf,
        /// The photos' folder (default: the one the scan read, as named in the manifest).
        #[arg(long)]
        input: Option<PathBuf>,
        /// An evidence head published earlier (printed by scan, review, report and verify): it must
        /// be one this output's chain has had. May be given more than once.
        #[arg(long, value_name = "SHA256")]
        head: Vec<String>,
        /// The organisation's public key (FILE.pub from keygen): a valid signature by it on a head
        /// of this output is required (see `sign`).
        #[arg(long, value_name = "FILE.pub")]
        key: Option<PathBuf>,
    },
    /// Sign OUT_DIR's evidence head with the organisation's secret key (from keygen).
    ///
    /// Appends the Ed25519 signature to OUT_DIR/evidence-signatures.jsonl; `verify --key FILE.pub`
    /// then requires it. Refuses when the evidence does not check out.
    ///
    /// Exit codes: 0 signed; 2 bad usage, an unreadable key, or evidence that does not check out.
    Sign {
        /// The output folder of a scan.
        out_dir: PathBuf,
        /// The secret key file.
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
    },
    /// Make an Ed25519 key pair for signing evidence heads: FILE (secret, keep it safe) and
    /// FILE.pub (public, give it to whoever verifies).
    ///
    /// Exit codes: 0 made; 2 a file exists already or cannot be written.
    Keygen {
        /// Where to write the secret key (the public one goes to FILE.pub).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Write N synthetic protocol photos and DIR/truth.jsonl with their true values.
    #[cfg(feature = "lab")]
    Synth {
        /// Folder to write the photos and truth.jsonl into.
        #[arg(long)]
        out: PathBuf,
        /// Number of photo files to write (copies and second photos included).
        #[arg(long)]
        count: usize,
        /// Seed: the same seed writes the same bytes.
        #[arg(long)]
        seed: u64,
        /// Share of protocols whose values break one or more control relations.
        #[arg(long, default_value_t = 0.2)]
        inconsistent: f64,
        /// Share of protocols whose counts and station number are written by hand (MNIST digits 0-4999
        /// and handwriting fonts, in blue or black ink); truth.jsonl marks them "handwritten": true.
        #[arg(long, default_value_t = 0.0)]
        handwritten: f64,
        /// Which MNIST digits the real-handwriting writers draw from: `trainable` (t10k 0-4999, which
        /// the glyph reader may train on) or `held-out` (t10k 5000-9999, which no reader trains on:
        /// writers the reader never saw, for measuring).
        #[arg(long, value_enum, default_value_t = HandDigitsArg::Trainable)]
        hand_digits: HandDigitsArg,
        /// Share of photos delivered through a messenger: shrunk to 1280-1600 px on the long side
        /// and encoded again at JPEG quality 70-85; truth.jsonl marks them.
        #[arg(long, default_value_t = 0.0)]
        messenger: f64,
        /// Form model file (default: the bundled Kazakhstan 2021 model).
        #[arg(long)]
        model: Option<PathBuf>,
    },
    /// Measure the glyph network on handwriting it never saw (MNIST test digits 5000-9999): its
    /// accuracy, and a calibration table (the network's probability for its answer against how
    /// often it was right).
    #[cfg(feature = "lab")]
    EvalDigits {
        /// An MNIST folder holding the two t10k .gz files (default: the copy bundled from assets/mnist/).
        #[arg(long, value_name = "DIR")]
        mnist: Option<PathBuf>,
        /// A network file to measure instead of the one built in (as train-digits writes it).
        #[arg(long, value_name = "FILE")]
        network: Option<PathBuf>,
        /// Print the figures as one JSON object instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Train the glyph network that second-reads counts (models/digits.bin),
    /// from a seed, and print its accuracy on digits it never saw.
    #[cfg(feature = "lab")]
    TrainDigits {
        /// Where to write the network.
        #[arg(long, default_value = "models/digits.bin")]
        out: PathBuf,
        /// Seed: the same seed trains the same network.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Epochs: each makes its own variations of the training glyphs and learns from them once.
        #[arg(long, default_value_t = 15)]
        epochs: usize,
        /// An MNIST folder holding the two t10k .gz files (default: the copy bundled from
        /// assets/mnist/). Digits 0–4999 are trained on, 5000–9999 only measure.
        #[arg(long, value_name = "DIR")]
        mnist: Option<PathBuf>,
        /// A folder holding MNIST's training set (train-images-idx3-ubyte.gz and
        /// train-labels-idx1-ubyte.gz, 60 000 digits): trained on in full instead of t10k's 0–4999.
        #[arg(long, value_name = "DIR")]
        mnist_train: Option<PathBuf>,
        /// Go on training this network file (as train-digits writes it) instead of starting afresh.
        #[arg(long, value_name = "FILE", requires = "from_epoch")]
        from: Option<PathBuf>,
        /// With --from: the epoch the learning rate's decay and the epochs' variations go on from
        /// (the network's own epochs, or fewer to learn again at a higher rate).
        #[arg(long, value_name = "N", requires = "from")]
        from_epoch: Option<usize>,
    },
    /// Train the sequence reader of handwritten counts
    /// (models/sequence.safetensors) on counts composed from MNIST's
    /// training digits, from a seed.
    #[cfg(feature = "lab")]
    TrainSequence {
        /// A folder holding MNIST's training set (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz).
        #[arg(long, value_name = "DIR")]
        mnist_train: PathBuf,
        /// Where to write the network.
        #[arg(long, default_value = "models/sequence.safetensors")]
        out: PathBuf,
        /// Seed: the same seed trains the same network.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Optimisation steps (48 composed counts each).
        #[arg(long, default_value_t = 3000)]
        steps: usize,
        /// Go on training this network (a `train-sequence` output) instead
        /// of starting from random weights; give another seed, so its
        /// counts are new ones.
        #[arg(long, value_name = "FILE")]
        from: Option<PathBuf>,
    },
    /// Measure the two handwriting readers on counts composed from MNIST's
    /// test digits 5000-9999 (never trained on): the sequence reader, the
    /// glyph reader that cuts a count into digits, and the two together.
    #[cfg(feature = "lab")]
    EvalSequence {
        /// An MNIST folder holding the two t10k .gz files (default: the bundled copy).
        #[arg(long, value_name = "DIR")]
        mnist: Option<PathBuf>,
        /// A network file to measure instead of the one built in.
        #[arg(long, value_name = "FILE")]
        network: Option<PathBuf>,
        /// Composed counts.
        #[arg(long, default_value_t = 2000)]
        count: usize,
        /// Seed of the composed counts (the calibration was fitted on seed 5:
        /// measure it on another).
        #[arg(long, default_value_t = 6)]
        seed: u64,
        /// Also fit the calibration of the two readers' confidences on
        /// these counts and print its weights.
        #[arg(long)]
        calibrate: bool,
        /// Instead: read the cells a scan saved with --debug-dir DIR (with
        /// --truth and --results), e.g. of real photos.
        #[arg(long, value_name = "DIR", requires_all = ["truth", "results"])]
        crops: Option<PathBuf>,
        #[arg(long, value_name = "FILE")]
        truth: Option<PathBuf>,
        #[arg(long, value_name = "FILE")]
        results: Option<PathBuf>,
    },
}

/// A progress bar on stderr (hidden when it is not a terminal), driven by
/// the scan's progress events.
fn progress_bar() -> scan::ProgressSink {
    use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} photos, {per_sec}, ETA {eta}").expect("a valid template"),
    );
    scan::ProgressSink(Arc::new(move |event| match event {
        scan::Progress::Started { files } => bar.set_length(files),
        scan::Progress::FileDone => bar.inc(1),
        scan::Progress::Finished => bar.finish_and_clear(),
    }))
}

/// `synth --hand-digits`: see [`synth::hand::HandDigits`].
#[cfg(feature = "lab")]
#[derive(Clone, Copy, clap::ValueEnum)]
enum HandDigitsArg {
    Trainable,
    HeldOut,
}

/// libtesseract's OpenMP runtime reads `OMP_THREAD_LIMIT` once, when the
/// library is loaded — before `main` runs. With one engine per worker its
/// threads would fight for the cores, so the binary restarts itself once
/// with the limit set (unless the user set it).
fn limit_openmp_before_tesseract_loads() {
    use std::os::unix::process::CommandExt;
    if std::env::var_os("OMP_THREAD_LIMIT").is_some() {
        return;
    }
    if let Ok(exe) = std::env::current_exe() {
        let error =
            std::process::Command::new(exe).args(std::env::args_os().skip(1)).env("OMP_THREAD_LIMIT", "1").exec();
        // exec only returns on failure: go on without the limit.
        eprintln!("warning: could not restart with OMP_THREAD_LIMIT=1 ({error}); scanning may be slower");
    }
}

/// `review`: serve the page, or with `export` write the verified data set.
fn review(
    out: &std::path::Path,
    bind: std::net::SocketAddr,
    token: Option<String>,
    model: Option<PathBuf>,
    export: bool,
) -> anyhow::Result<()> {
    use protocol_ocr::review::{store, verified, web};
    let model = FormModel::load(model.as_deref())?;
    if export {
        let store = store::SqliteStore::open(out)?;
        let set = verified::verified_set(&store)?;
        let (jsonl, csv) = verified::export(out, &model, &set)?;
        println!(
            "{} verified protocols ({} pending review, {} rejected) written to {} and {}",
            set.rows.len(),
            set.pending.len(),
            set.rejected.len(),
            jsonl.display(),
            csv.display()
        );
        return Ok(());
    }
    let token = token.filter(|t| !t.is_empty());
    let with_token = token.is_some();
    let running = web::App::open(out, model, token)?.serve(bind)?;
    let hint = if with_token { "/?token=…" } else { "/" };
    println!("review page: http://{}{hint}  (Ctrl-C stops it; every decision is already saved)", running.address);
    if let Ok(evidence) = protocol_ocr::evidence::Evidence::current(out) {
        // Whoever started the server may have stopped reading its output:
        // the server goes on all the same.
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), "{}", evidence.render());
    }
    running.wait();
    Ok(())
}

/// `eval-digits`: the built-in network (or `network_file`) on MNIST's held-out digits.
#[cfg(feature = "lab")]
fn eval_digits(
    mnist_dir: Option<&std::path::Path>,
    network_file: Option<&std::path::Path>,
) -> anyhow::Result<protocol_ocr::digits::measure::DigitScores> {
    use protocol_ocr::digits::{self, mnist::Mnist};
    let set = Mnist::test_set(mnist_dir)?;
    let from_file;
    let net = match network_file {
        Some(path) => {
            from_file = digits::network_file(path)?;
            &from_file
        }
        None => digits::network(),
    };
    Ok(digits::measure::score(net, &set, digits::mnist::HELD_OUT))
}

fn main() -> ExitCode {
    limit_openmp_before_tesseract_loads();
    // The one place an error becomes a message and an exit code: every
    // command's failure is bad usage or an unusable input (exit 2); the
    // other codes are outcomes, returned by `run`.
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

/// Runs one command; `Err` for bad usage or an unusable input.
fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Scan { in_dir, out, model, jobs, follow_symlinks, debug_dir, quiet } => {
            let model = FormModel::load(model.as_deref())?;
            if !in_dir.is_dir() {
                anyhow::bail!("{} is not a folder", in_dir.display());
            }
            let jobs = jobs.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
            let interrupt = Arc::new(AtomicBool::new(false));
            let flag = interrupt.clone();
            let _ = ctrlc::set_handler(move || {
                if flag.swap(true, Ordering::SeqCst) {
                    // A second Ctrl-C: stop at once; the journal has what was done.
                    std::process::exit(EXIT_INTERRUPTED.into());
                }
                eprintln!("\ninterrupted: finishing the photos being read (Ctrl-C again to stop at once)");
            });
            let options = scan::ScanOptions {
                input: in_dir,
                out: out.clone(),
                jobs,
                follow_symlinks,
                progress: (!quiet).then(progress_bar),
                debug_dir,
                interrupt: Some(interrupt),
            };
            let outcome = scan::run(&model, &options)?;
            if outcome.interrupted {
                eprintln!(
                    "interrupted: {} files done and saved in {}; run the same command again to go on",
                    outcome.results.len(),
                    out.join(scan::journal::JOURNAL_FILE).display()
                );
                return Ok(ExitCode::from(EXIT_INTERRUPTED));
            }
            if let Some(why) = &outcome.resume.journal_discarded {
                eprintln!("note: the earlier run's saved results were not reused: {why}");
            }
            if let Some(entry) = protocol_ocr::evidence::record_scan(&out)? {
                eprintln!(
                    "note: reviewers' decisions were made on an earlier scan of this folder: the new scan is entry {} of \
                     the decision log",
                    entry.seq
                );
            }
            for file in &outcome.resume.changed {
                eprintln!("changed since the last run, read anew: {file}");
            }
            if !quiet {
                print_scan_summary(&outcome, &out);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Eval { truth, results, json, per_photo } => {
            let (scores, photos) = eval::run(&truth, &results)?;
            if json {
                let mut value = serde_json::to_value(&scores).expect("scores serialise");
                if per_photo {
                    value["photos"] = serde_json::to_value(&photos).expect("rows serialise");
                }
                println!("{value}");
            } else {
                print!("{}", eval::render_table(&scores));
                if per_photo {
                    print!("\n{}", eval::render_per_photo(&photos));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Report { out_dir, official, model, to } => {
            let model = FormModel::load(model.as_deref())?;
            let report = protocol_ocr::report::run(&out_dir, &model, official.as_deref(), to.as_deref())?;
            print!("{}", report.render(&model));
            let dest = to.as_deref().unwrap_or(&out_dir);
            println!("\nwrote {}, report.csv, report.html", dest.join("report.json").display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Review { out_dir, bind, token, model, export } => {
            review(&out_dir, bind, token, model, export)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Verify { out_dir, input, head, key } => {
            let key = key.as_deref().map(protocol_ocr::signing::read_public_key).transpose()?;
            let report = verify::verify(&out_dir, input.as_deref(), &head, key.as_ref())?;
            print!("{}", verify::render(&report));
            Ok(if report.ok() { ExitCode::SUCCESS } else { ExitCode::from(EXIT_CHANGED) })
        }
        Command::Sign { out_dir, key } => {
            let signed = protocol_ocr::signing::sign(&out_dir, &key)?;
            println!(
                "signed evidence head {} ({} decisions) with key {}; appended to {}",
                signed.head,
                signed.decisions,
                signed.public_key,
                out_dir.join(protocol_ocr::signing::SIGNATURES_FILE).display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Keygen { out } => {
            let public = protocol_ocr::signing::keygen(&out)?;
            println!(
                "secret key: {} (keep it safe)\npublic key: {} ({public})",
                out.display(),
                protocol_ocr::signing::public_path_of(&out).display()
            );
            Ok(ExitCode::SUCCESS)
        }
        #[cfg(feature = "lab")]
        Command::Synth { out, count, seed, inconsistent, handwritten, hand_digits, messenger, model } => {
            let model = FormModel::load(model.as_deref())?;
            let hand_digits = match hand_digits {
                HandDigitsArg::Trainable => synth::hand::HandDigits::Trainable,
                HandDigitsArg::HeldOut => synth::hand::HandDigits::HeldOut,
            };
            let options = synth::SynthOptions {
                out: out.clone(),
                count,
                seed,
                inconsistent,
                handwritten,
                hand_digits,
                messenger,
            };
            let truth = synth::run(&model, &options)?;
            let inconsistent = truth.iter().filter(|t| !t.consistent).count();
            let duplicates = truth.iter().filter(|t| t.duplicate_of.is_some()).count();
            let handwritten = truth.iter().filter(|t| t.handwritten).count();
            println!(
                "wrote {} photos ({inconsistent} inconsistent, {handwritten} handwritten, {duplicates} byte copies) and {}",
                truth.len(),
                out.join("truth.jsonl").display()
            );
            Ok(ExitCode::SUCCESS)
        }
        #[cfg(feature = "lab")]
        Command::EvalDigits { mnist, network, json } => {
            let scores = eval_digits(mnist.as_deref(), network.as_deref())?;
            if json {
                println!("{}", serde_json::to_string(&scores).expect("scores serialise"));
            } else {
                print!("{}", scores.render());
            }
            Ok(ExitCode::SUCCESS)
        }
        #[cfg(feature = "lab")]
        Command::TrainSequence { mnist_train, out, seed, steps, from } => {
            use protocol_ocr::digits::{mnist::Mnist, sequence_train};
            let training = Mnist::load_training(&mnist_train)?;
            let options = sequence_train::TrainSequenceOptions { seed, steps, from };
            let weights = sequence_train::train(&training, &options, |line| eprintln!("{line}"))?;
            sequence_train::save(&weights, &out)?;
            println!("wrote {}", out.display());
            Ok(ExitCode::SUCCESS)
        }
        #[cfg(feature = "lab")]
        Command::EvalSequence { mnist, network, count, seed, calibrate, crops, truth, results } => {
            let report = match (crops, truth, results) {
                (Some(crops), Some(truth), Some(results)) => {
                    protocol_ocr::eval_hand::compare_on_crops(&crops, &truth, &results, network.as_deref())?
                }
                _ => protocol_ocr::eval_hand::compare(mnist.as_deref(), network.as_deref(), count, seed, calibrate)?,
            };
            print!("{report}");
            Ok(ExitCode::SUCCESS)
        }
        #[cfg(feature = "lab")]
        Command::TrainDigits { out, seed, epochs, mnist, mnist_train, from, from_epoch } => {
            let options = protocol_ocr::digits::train::TrainOptions {
                seed,
                epochs,
                mnist_dir: mnist,
                training_set_dir: mnist_train,
                from: from.zip(from_epoch),
            };
            let (net, report) = protocol_ocr::digits::train::train(&options, |line| eprintln!("{line}"))?;
            scan::write::write_atomically(&out, &net.to_bytes())?;
            println!("{}", serde_json::to_string_pretty(&report).expect("a report serialises"));
            println!("wrote {}", out.display());
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// What a finished scan prints: reuse, counts per status, the files
/// written and the evidence head to publish.
fn print_scan_summary(outcome: &scan::ScanOutcome, out: &std::path::Path) {
    use protocol_ocr::result::Status;
    if outcome.resume.reused > 0 {
        println!("{} files already read by an earlier run were reused", outcome.resume.reused);
    }
    let count = |s: Status| outcome.results.iter().filter(|r| r.status == s).count();
    println!(
        "{} files in {:.1} s: {} accepted, {} flagged, {} duplicate, {} failed",
        outcome.results.len(),
        outcome.wall_seconds,
        count(Status::Accepted),
        count(Status::Flagged),
        count(Status::Duplicate),
        count(Status::Failed)
    );
    println!("wrote {}/results.jsonl, results.csv, summary.json, manifest.json", out.display());
    match protocol_ocr::evidence::Evidence::current(out) {
        Ok(evidence) => println!("{}", evidence.render()),
        Err(e) => eprintln!("warning: no evidence head: {e:#}"),
    }
}
