//! The eframe shell: owns the engine and the open case, handles commands from the views, drains engine output
//! within a time budget each frame.

/// The workstation application.
#[derive(Default)]
pub struct HeraclesApp {}

impl HeraclesApp {
    /// The application with its default state.
    pub fn new(ctx: &egui::Context) -> HeraclesApp {
        crate::ui::theme::apply(ctx);
        HeraclesApp {}
    }
}

impl eframe::App for HeraclesApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        ui.heading("heracles");
    }
}

/// Opens the workstation window and runs until it is closed.
pub fn run_gui() -> anyhow::Result<()> {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("heracles")
            .with_inner_size([1366.0, 768.0]),
        ..Default::default()
    };
    eframe::run_native(
        "heracles",
        options,
        Box::new(|cc| Ok(Box::new(HeraclesApp::new(&cc.egui_ctx)))),
    )
    .map_err(|error| anyhow::anyhow!("could not open the window: {error}"))
}
