//! # The terminal
//!
//! [`run`] puts the terminal in raw mode on the alternate screen, runs the
//! event loop — key presses from a reader thread, API answers, WebSocket
//! updates and a 50 ms animation tick, each applied to the
//! [`App`] and followed by a redraw — and restores the terminal on the
//! way out, whether by quitting, by an error or by a panic (a panic hook
//! restores it before the panic message is printed).

use std::future::Future;
use std::io::{self, Stdout, Write};
use std::panic::PanicHookInfo;
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
    let _ = leave_screen(&mut io::stdout());
}

/// Writes what takes the terminal off the alternate screen and shows the
/// cursor again.
fn leave_screen(out: &mut impl Write) -> io::Result<()> {
    execute!(out, LeaveAlternateScreen, crossterm::cursor::Show)
}

/// The panic hook: `restore` first, so that `previous` (which prints the
/// message) writes to a normal terminal and the message stays readable.
fn restoring_hook(
    restore: impl Fn() + Send + Sync + 'static,
    previous: Box<dyn Fn(&PanicHookInfo<'_>) + Send + Sync + 'static>,
) -> Box<dyn Fn(&PanicHookInfo<'_>) + Send + Sync + 'static> {
    Box::new(move |info| {
        restore();
        previous(info);
    })
}

fn install_panic_hook() {
    std::panic::set_hook(restoring_hook(restore, std::panic::take_hook()));
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

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::{leave_screen, restoring_hook};

    #[test]
    fn leaving_the_screen_leaves_the_alternate_screen_and_shows_the_cursor() {
        let mut out = Vec::new();
        leave_screen(&mut out).unwrap();
        // DECRST 1049 (main screen back) then DECTCEM (cursor shown).
        assert_eq!(String::from_utf8(out).unwrap(), "\x1b[?1049l\x1b[?25h");
    }

    #[test]
    fn a_panic_restores_the_terminal_before_its_message_is_printed() {
        let calls = Arc::new(Mutex::new(Vec::<String>::new()));
        let restored = calls.clone();
        let printed = calls.clone();
        let hook = restoring_hook(
            move || restored.lock().unwrap().push("restore".into()),
            Box::new(move |info| {
                let message = info
                    .payload()
                    .downcast_ref::<&str>()
                    .copied()
                    .unwrap_or("?")
                    .to_owned();
                printed.lock().unwrap().push(format!("print {message}"));
            }),
        );
        // The hook is process-wide: put the harness's back at once. A panic
        // of another test in the window also goes through this hook, so
        // only the pair of this panic is looked for.
        let original = std::panic::take_hook();
        std::panic::set_hook(hook);
        let caught = std::panic::catch_unwind(|| panic!("the UI broke"));
        let _ = std::panic::take_hook();
        std::panic::set_hook(original);
        assert!(caught.is_err());
        let calls = calls.lock().unwrap();
        assert!(
            calls
                .windows(2)
                .any(|w| w[0] == "restore" && w[1] == "print the UI broke"),
            "{calls:?}"
        );
    }
}
