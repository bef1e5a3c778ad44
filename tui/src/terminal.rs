//! # The terminal
//!
//! [`run`] puts the terminal in raw mode on the alternate screen, runs the
//! event loop — key presses from a reader thread, API answers, WebSocket
//! updates and a 50 ms animation tick, each applied to the
//! [`App`] and followed by a redraw — and restores the terminal on the
//! way out, whether by quitting, by an error or by a panic (a panic hook
//! restores it before the panic message is printed).

use std::future::Future;
use std::io::{self, Stdout};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crossterm::event::{self, KeyCode, KeyEventKind, KeyModifiers};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use node::client::{ApiClient, ClientError};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use tokio::sync::mpsc;

use crate::app::{App, Event, Key};
use crate::client::Executor;

/// How often the screen is animated.
const FRAME: Duration = Duration::from_millis(50);

/// Where the node is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// The API's base URL, e.g. `http://127.0.0.1:7380`.
    pub api: String,
    /// The node's cookie file (its auth token), for betting and sending.
    pub cookie: Option<PathBuf>,
}

/// Why the UI could not run.
#[derive(Debug, thiserror::Error)]
pub enum TuiError {
    /// The API address is not usable.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The terminal could not be set up or drawn on.
    #[error("terminal: {0}")]
    Terminal(#[source] io::Error),
    /// The async runtime could not start.
    #[error("cannot start the async runtime: {0}")]
    Runtime(#[source] io::Error),
}

/// Runs the UI until the user quits.
pub fn run(options: Options) -> Result<(), TuiError> {
    run_until(options, std::future::pending())
}

/// Runs the UI until the user quits or `shutdown` completes (a program
/// that embeds the UI closes it this way and gets the terminal back).
/// `shutdown` is polled on the UI's own runtime, so it must not need
/// another runtime's reactor (a `tokio::sync` channel is fine).
pub fn run_until(
    options: Options,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), TuiError> {
    let mut client = ApiClient::new(&options.api)?;
    if let Some(cookie) = &options.cookie {
        client = client.with_cookie(cookie);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(TuiError::Runtime)?;
    install_panic_hook();
    let mut terminal = Screen::enter().map_err(TuiError::Terminal)?;
    let result = runtime.block_on(event_loop(
        &mut terminal.terminal,
        client,
        options.api,
        shutdown,
    ));
    drop(terminal);
    // The reader thread and request tasks may still be waiting; do not wait
    // for them.
    runtime.shutdown_background();
    result
}

/// Leaves raw mode and the alternate screen; safe to call twice.
fn restore() {
    let _ = disable_raw_mode();
    let _ = execute!(io::stdout(), LeaveAlternateScreen, crossterm::cursor::Show);
}

fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        previous(info);
    }));
}

/// The terminal in UI mode; restored on drop.
struct Screen {
    terminal: Terminal<CrosstermBackend<Stdout>>,
}

impl Screen {
    fn enter() -> io::Result<Screen> {
        enable_raw_mode()?;
        let mut stdout = io::stdout();
        if let Err(e) = execute!(stdout, EnterAlternateScreen) {
            restore();
            return Err(e);
        }
        match Terminal::new(CrosstermBackend::new(stdout)) {
            Ok(mut terminal) => {
                let _ = terminal.hide_cursor();
                Ok(Screen { terminal })
            }
            Err(e) => {
                restore();
                Err(e)
            }
        }
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        restore();
    }
}

/// The key, if it is one the UI uses.
fn key(event: event::KeyEvent) -> Option<Key> {
    if event.kind != KeyEventKind::Press {
        return None;
    }
    Some(match event.code {
        KeyCode::Char('c') if event.modifiers.contains(KeyModifiers::CONTROL) => Key::Interrupt,
        KeyCode::Char(c) => Key::Char(c),
        KeyCode::Enter => Key::Enter,
        KeyCode::Esc => Key::Esc,
        KeyCode::Backspace => Key::Backspace,
        KeyCode::Tab => Key::Tab,
        KeyCode::BackTab => Key::BackTab,
        KeyCode::Up => Key::Up,
        KeyCode::Down => Key::Down,
        KeyCode::Left => Key::Left,
        KeyCode::Right => Key::Right,
        _ => return None,
    })
}

/// Reads keys on a thread (crossterm's reads block) until `stop`.
fn spawn_reader(events: mpsc::UnboundedSender<Event>, stop: Arc<AtomicBool>) {
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            match event::poll(Duration::from_millis(100)) {
                Ok(true) => match event::read() {
                    Ok(event::Event::Key(k)) => {
                        if let Some(k) = key(k)
                            && events.send(Event::Key(k)).is_err()
                        {
                            return;
                        }
                    }
                    Ok(_) => {}
                    Err(_) => return,
                },
                Ok(false) => {}
                Err(_) => return,
            }
        }
    });
}

async fn event_loop(
    terminal: &mut Terminal<CrosstermBackend<Stdout>>,
    client: ApiClient,
    api: String,
    shutdown: impl Future<Output = ()>,
) -> Result<(), TuiError> {
    let mut shutdown = std::pin::pin!(shutdown);
    let (events, mut incoming) = mpsc::unbounded_channel();
    let stop = Arc::new(AtomicBool::new(false));
    spawn_reader(events.clone(), stop.clone());
    let mut executor = Executor::new(client, events);
    let started = Instant::now();
    let mut app = App::new(api);
    for request in app.start() {
        executor.execute(request);
    }
    let mut ticker = tokio::time::interval(FRAME);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let result = loop {
        let event = tokio::select! {
            () = &mut shutdown => break Ok(()),
            _ = ticker.tick() => Event::Tick(started.elapsed().as_millis() as u64),
            Some(event) = incoming.recv() => event,
            Some(update) = executor.next_update() => Event::Subscription(update),
        };
        // Redraw on the animation tick and at once after a key press.
        let redraw = matches!(event, Event::Tick(_) | Event::Key(_));
        for request in app.update(event) {
            executor.execute(request);
        }
        if app.quit {
            break Ok(());
        }
        if redraw && let Err(e) = terminal.draw(|frame| crate::ui::render(frame, &app)) {
            break Err(TuiError::Terminal(e));
        }
    };
    stop.store(true, Ordering::Relaxed);
    result
}
