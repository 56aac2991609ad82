//! The eframe shell: owns the engine, the current view and the UI's copy of the live state; each frame it takes
//! the engine's newest output (see [`drain`]), draws the top bar and the current view, then applies the commands
//! the views pushed (see [`command`]).

pub mod case_writer;
pub mod command;
pub mod drain;
pub mod endpoints;
pub mod protocol;
pub mod review;
pub mod upload;

use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;

pub use command::Command;

use crate::acquisition::profile::load_profiles;
use crate::acquisition::serial::available_ports;
use crate::acquisition::{Engine, EngineConfig, LiveState, SimControl, SimSource, Source};
use crate::sim::{self, Control, SensorLevel, SimError, Simulator};
use crate::ui::action::{Action, View};
use crate::ui::demo::DemoPanel;
use crate::ui::live::{LiveView, bar_frame, live_ui};
use crate::ui::settings::{SettingsState, settings_ui};
use crate::ui::theme;
use crate::ui::top_bar::{SaveElsewhere, TopBarInfo, save_elsewhere_ui, top_bar_ui};
use crate::ui::upload::{case_upload_ui, queue_line_ui, upload_settings_ui};
use protocol::{PatientControl, ProtocolSession, StartScreen};

/// The simulated patient's control handle and panel, when the simulator is the source.
struct SimDemo {
    control: SimControl,
    panel: DemoPanel,
    /// What the protocol sent the patient since the last frame (the panel shows it too).
    sent_by_protocol: Rc<RefCell<Vec<Control>>>,
}

/// Why the workstation could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The simulated patient could not be made.
    #[error(transparent)]
    Simulator(#[from] SimError),
    /// A thread could not be started.
    #[error("could not start the acquisition threads: {0}")]
    Threads(#[from] std::io::Error),
}

/// The scenario the workstation opens on when no console is configured (the trial's baseline state).
pub const DEFAULT_SCENARIO: &str = "shock-ecmo";

/// The workstation application.
pub struct HeraclesApp {
    engine: Engine,
    sim: Option<SimDemo>,
    view: View,
    live: LiveView,
    /// What the views draw from: the engine's state as of this frame (samples held still while frozen).
    shown: LiveState,
    top_bar: TopBarInfo,
    /// The guided protocol of the open case.
    protocol: Option<ProtocolSession>,
    /// The start screen's form and case list.
    start: StartScreen,
    /// Where case files are kept (`None`: the platform data folder).
    data_dir: Option<PathBuf>,
    /// Steers the simulated patient, when that is the source.
    patient: Option<PatientControl>,
    settings: SettingsState,
    /// Wakes the UI; handed to every engine the app starts.
    repaint: Arc<dyn Fn() + Send + Sync>,
    /// The review screen, once opened.
    review: Option<review::ReviewState>,
    /// The upload thread, its status and the Upload section's form.
    uploads: upload::Uploads,
    /// The folder typed in the "save to another folder" dialog, while it is open (offered while NOT SAVING).
    save_elsewhere: Option<String>,
    /// The system's folder dialog opened from it, while open (thread `save-folder-dialog`).
    save_elsewhere_pick: Option<std::sync::mpsc::Receiver<Option<PathBuf>>>,
    /// The window's size in points when the zoom was last chosen (see [`HeraclesApp::scale_to_window`]).
    zoomed_at: Option<egui::Vec2>,
}

impl HeraclesApp {
    /// Starts the engine on `sources` and shows the live monitor. The engine wakes the UI (coalesced) whenever it
    /// has something new to draw.
    pub fn new(ctx: &egui::Context, sources: Vec<Box<dyn Source>>) -> std::io::Result<HeraclesApp> {
        theme::apply(ctx);
        let repaint_ctx = ctx.clone();
        let repaint: Arc<dyn Fn() + Send + Sync> = Arc::new(move || repaint_ctx.request_repaint());
        let engine = Engine::start(sources, EngineConfig::default(), repaint.clone())?;
        let shown = engine.lock().clone();
        let (profiles, errors) = load_profiles(None);
        for error in errors {
            log::error!("device profile not loaded: {error}");
        }
        Ok(HeraclesApp {
            engine,
            sim: None,
            view: View::Live,
            live: LiveView::default(),
            shown,
            top_bar: TopBarInfo::default(),
            protocol: None,
            start: StartScreen::default(),
            data_dir: None,
            patient: None,
            settings: SettingsState::new(profiles, available_ports()),
            repaint,
            review: None,
            uploads: upload::Uploads::default(),
            save_elsewhere: None,
            save_elsewhere_pick: None,
            zoomed_at: None,
        })
    }

    /// The workstation on the built-in simulated patient of `scenario` (realistic sensors, noise from `seed`),
    /// with the demo panel to steer it.
    pub fn on_simulator(ctx: &egui::Context, scenario: &str, seed: u64) -> Result<HeraclesApp, StartError> {
        let simulator = Simulator::new(scenario, seed, SensorLevel::Realistic)?;
        let setup =
            sim::scenario::setup(scenario).ok_or_else(|| SimError::UnknownScenario(scenario.to_owned()))?;
        let (source, control) = SimSource::with_control(simulator);
        let mut app = HeraclesApp::new(ctx, vec![Box::new(source)])?;
        let protocol_control = control.clone();
        let sent_by_protocol: Rc<RefCell<Vec<Control>>> = Rc::default();
        let sent = Rc::clone(&sent_by_protocol);
        app.set_patient_control(Box::new(move |control| {
            protocol_control
                .send(control)
                .map_err(|error| error.to_string())?;
            sent.borrow_mut().push(control);
            Ok(())
        }));
        app.sim = Some(SimDemo {
            control,
            panel: DemoPanel::new(scenario, &setup),
            sent_by_protocol,
        });
        Ok(app)
    }

    /// Keeps case files in `dir` instead of the platform data folder.
    pub fn set_data_dir(&mut self, dir: Option<PathBuf>) {
        self.data_dir = dir;
    }

    /// Starts the uploads (the `upload` thread) for the data folder, with the settings of `config_dir` (the
    /// platform's configuration folder when `None`). Call after [`HeraclesApp::set_data_dir`].
    pub fn start_uploads(&mut self, config_dir: Option<PathBuf>) {
        let repaint = Arc::clone(&self.repaint);
        self.uploads
            .start(self.data_dir.as_deref(), config_dir.as_deref(), repaint);
    }

    /// The uploads' status as the views show it.
    pub fn upload_status(&self) -> &crate::upload::worker::UploadStatus {
        &self.uploads.status
    }

    /// Declares the source to be the simulated patient, steered by `control`: demo cases give it the recorded
    /// device, hyperaemia and preload reductions, and trial cases cannot be created on it.
    pub fn set_patient_control(&mut self, control: PatientControl) {
        self.patient = Some(control);
    }

    /// The guided protocol of the open case, if one is open.
    pub fn protocol(&self) -> Option<&ProtocolSession> {
        self.protocol.as_ref()
    }

    /// The running engine (to start or stop recording).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The screen shown now.
    pub fn view(&self) -> View {
        self.view
    }

    /// The live screen's settings (sweep, scales, frozen).
    pub fn live(&self) -> &LiveView {
        &self.live
    }

    /// The console settings view's state.
    pub fn settings(&self) -> &SettingsState {
        &self.settings
    }

    /// The one place the UI is scaled: the zoom of [`theme::zoom_for`] the window's logical size (its size in
    /// points at the zoom in force), chosen again whenever the window changes size. A 1920x1080 screen thus shows
    /// the 1366x768 layout 1.41 times larger, fonts, controls and the live numbers with it.
    fn scale_to_window(&mut self, ctx: &egui::Context) {
        let points = ctx.viewport_rect().size();
        // Unchanged since the zoom was chosen: nothing to do (and a host that does not apply zoom to the window's
        // size in points, as eframe does, cannot make it grow frame after frame).
        if self.zoomed_at == Some(points) {
            return;
        }
        self.zoomed_at = Some(points);
        let zoom = theme::zoom_for(points * ctx.zoom_factor());
        if (zoom - ctx.zoom_factor()).abs() > 1e-3 {
            ctx.set_zoom_factor(zoom);
        }
    }

    /// Draws one frame of the whole window into `ui` and applies what the user asked for.
    pub fn frame_ui(&mut self, ui: &mut egui::Ui) {
        self.scale_to_window(ui.ctx());
        drain::drain(&mut self.shown, &self.engine.lock(), !self.live.frozen);
        if let Some(session) = &mut self.protocol {
            session.tick(&self.shown, &self.engine, self.patient.as_ref());
        }
        if let Some(sim) = &mut self.sim {
            for control in sim.sent_by_protocol.borrow_mut().drain(..) {
                sim.panel.show_sent(control);
            }
        }
        self.start.poll();
        self.uploads.poll();
        self.top_bar = protocol::top_bar_info(self.protocol.as_ref());
        // On the review screen with no bedside case open, the bar names the case under review.
        if self.view == View::Review
            && self.protocol.is_none()
            && let Some(screen) = self.review_screen()
        {
            let case = screen
                .path()
                .file_stem()
                .map(|stem| stem.to_string_lossy().into_owned());
            self.top_bar = TopBarInfo {
                case_id: case.map(|case| format!("{case} (under review)")),
                step: Some("offline review".to_owned()),
            };
        }
        let mut commands = Vec::new();
        let mut actions = Vec::new();
        match (self.view, &mut self.protocol) {
            (View::Live, None) => {
                protocol::no_case_bar_ui(ui, &mut commands);
                let demo = self.sim.as_mut().map(|sim| &mut sim.panel);
                live_frame_ui(
                    ui,
                    &self.top_bar,
                    &self.live,
                    &self.shown,
                    &[],
                    demo,
                    &mut actions,
                );
            }
            (View::Live, Some(session)) => {
                top_bar_panel_ui(ui, &self.top_bar, self.view, &self.shown, &mut actions);
                if protocol::protocol_panels(ui, session, &self.shown, &mut commands) {
                    let demo = self.sim.as_mut().map(|sim| &mut sim.panel);
                    let baseline_loop = session.endpoints().map_or(&[][..], |e| &e.baseline_loop[..]);
                    live_ui(ui, &self.live, &self.shown, baseline_loop, demo, &mut actions);
                }
            }
            (View::Start, _) => {
                top_bar_panel_ui(ui, &self.top_bar, self.view, &self.shown, &mut actions);
                queue_line_panel_ui(ui, &self.uploads.status);
                self.start
                    .ui(ui, &self.uploads.status, &mut self.uploads.reason, &mut commands);
            }
            (View::Settings, _) => {
                top_bar_panel_ui(ui, &self.top_bar, View::Settings, &self.shown, &mut actions);
                queue_line_panel_ui(ui, &self.uploads.status);
                self.settings.show_live(&self.shown);
                egui::Panel::right("upload-settings")
                    .default_size(440.0)
                    .show(ui, |ui| {
                        let uploads = &mut self.uploads;
                        commands.extend(
                            upload_settings_ui(ui, &mut uploads.form, &uploads.status)
                                .into_iter()
                                .map(Command::Upload),
                        );
                    });
                egui::CentralPanel::default().show(ui, |ui| {
                    commands.extend(
                        settings_ui(ui, &mut self.settings)
                            .into_iter()
                            .map(Command::Settings),
                    );
                });
            }
            (View::Review, _) => {
                top_bar_panel_ui(ui, &self.top_bar, View::Review, &self.shown, &mut actions);
                let case = self.review_screen().map(|screen| screen.path().to_owned());
                egui::Panel::bottom("upload-status").show(ui, |ui| {
                    if let Some(path) = &case
                        && let Some(case_id) = path.file_stem().map(|s| s.to_string_lossy().into_owned())
                        && let Some(action) =
                            case_upload_ui(ui, &case_id, path, &self.uploads.status, &mut self.uploads.reason)
                    {
                        commands.push(Command::Upload(action));
                    }
                    queue_line_ui(ui, &self.uploads.status);
                });
                self.review_frame_ui(ui, &mut commands);
            }
        }
        if let Some(pick) = &self.save_elsewhere_pick {
            match pick.try_recv() {
                Ok(chosen) => {
                    if let (Some(chosen), Some(folder)) = (chosen, &mut self.save_elsewhere) {
                        *folder = chosen.display().to_string();
                    }
                    self.save_elsewhere_pick = None;
                }
                Err(std::sync::mpsc::TryRecvError::Empty) => {}
                Err(std::sync::mpsc::TryRecvError::Disconnected) => self.save_elsewhere_pick = None,
            }
        }
        if let Some(folder) = &mut self.save_elsewhere {
            match save_elsewhere_ui(ui.ctx(), folder, self.save_elsewhere_pick.is_some()) {
                Some(SaveElsewhere::Folder(folder)) => {
                    self.save_elsewhere = None;
                    commands.push(Command::SaveElsewhere(folder));
                }
                Some(SaveElsewhere::Choose) => {
                    match review::pick_folder(
                        "Continue saving the case in folder",
                        "save-folder-dialog",
                        self.repaint.clone(),
                    ) {
                        Ok(receiver) => self.save_elsewhere_pick = Some(receiver),
                        Err(error) => log::error!("the folder dialog could not be opened: {error}"),
                    }
                }
                Some(SaveElsewhere::Cancel) => self.save_elsewhere = None,
                None => {}
            }
        }
        for command in actions.into_iter().map(Command::Ui).chain(commands) {
            self.handle(command);
        }
    }
}

/// One frame of the live screen drawn from plain state: the top bar over the live view. The app draws this;
/// the `live_frame` benchmark calls it directly.
pub fn live_frame_ui(
    ui: &mut egui::Ui,
    top_bar: &TopBarInfo,
    view: &LiveView,
    state: &LiveState,
    baseline_loop: &[[f64; 2]],
    demo: Option<&mut DemoPanel>,
    actions: &mut Vec<Action>,
) {
    top_bar_panel_ui(ui, top_bar, View::Live, state, actions);
    live_ui(ui, view, state, baseline_loop, demo, actions);
}

/// The upload queue's status line at the bottom of the start and settings screens.
fn queue_line_panel_ui(ui: &mut egui::Ui, status: &crate::upload::worker::UploadStatus) {
    egui::Panel::bottom("upload-status").show(ui, |ui| queue_line_ui(ui, status));
}

/// The top bar, shown over every view.
fn top_bar_panel_ui(
    ui: &mut egui::Ui,
    top_bar: &TopBarInfo,
    current: View,
    state: &LiveState,
    actions: &mut Vec<Action>,
) {
    egui::Panel::top("top-bar")
        .exact_size(theme::TOP_BAR_HEIGHT)
        .frame(bar_frame())
        .show(ui, |ui| top_bar_ui(ui, top_bar, current, state, actions));
}

impl eframe::App for HeraclesApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.frame_ui(ui);
    }

    fn clear_color(&self, _visuals: &egui::Visuals) -> [f32; 4] {
        theme::BACKGROUND.to_normalized_gamma_f32()
    }
}

/// Opens the workstation window on the simulated patient, at the start screen, and runs until it is closed.
/// Case files are kept in `data_dir` (default: the platform data folder).
pub fn run_gui(data_dir: Option<PathBuf>, config_dir: Option<PathBuf>) -> anyhow::Result<()> {
    // A new patient each session: the noise seed comes from the clock (the run is still reproducible from the
    // seed, which is logged).
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    log::info!("simulated patient: scenario {DEFAULT_SCENARIO}, seed {seed}");
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("heracles")
            .with_inner_size([1366.0, 768.0]),
        ..Default::default()
    };
    eframe::run_native(
        "heracles",
        options,
        Box::new(|cc| {
            let mut app = HeraclesApp::on_simulator(&cc.egui_ctx, DEFAULT_SCENARIO, seed)?;
            app.set_data_dir(data_dir);
            app.start_uploads(config_dir);
            app.handle(Command::ShowStart);
            Ok(Box::new(app))
        }),
    )
    .map_err(|error| anyhow::anyhow!("could not open the window: {error}"))
}
