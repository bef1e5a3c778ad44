//! Every screen rendered on ratatui's `TestBackend` from a state built in
//! `support`, compared with the checked-in text in `tests/snapshots/`.
//! `BITCRAPS_UPDATE_SNAPSHOTS=1 cargo test -p bitcraps-tui` rewrites them;
//! otherwise any difference fails.

mod support;

use std::path::PathBuf;

use node::client::SubscriptionUpdate;
use node::client::testing::{Beacon, crashed_round};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::time::Duration;
use tui::app::{Answer, App, Event, Failure, Key, RoundPurpose, Screen};

use support::{app, press};

/// The screen as text, one line per row, trailing spaces cut.
fn draw(app: &App, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| tui::ui::render(frame, app)).unwrap();
    let buffer = terminal.backend().buffer();
    let mut text = String::new();
    for y in 0..height {
        let line: String = (0..width).map(|x| buffer[(x, y)].symbol()).collect();
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}

fn check(name: &str, app: &App, width: u16, height: u16) {
    let text = draw(app, width, height);
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(format!("{name}_{width}x{height}.txt"));
    if std::env::var_os("BITCRAPS_UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, &text).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run with BITCRAPS_UPDATE_SNAPSHOTS=1 to write it",
            path.display()
        )
    });
    assert!(
        text == expected,
        "{name} at {width}×{height} differs from {}:\n--- expected\n{expected}\n--- rendered\n{text}",
        path.display()
    );
}

fn on(screen: Screen) -> App {
    let mut app = app();
    app.show(screen);
    app
}

#[test]
fn crash_running() {
    let app = on(Screen::Crash);
    check("crash", &app, 80, 24);
    check("crash", &app, 120, 40);
}

#[test]
fn crash_verify_view() {
    let mut app = on(Screen::Crash);
    // The newest past round, as the node serves it.
    let round = crashed_round(&mut Beacon::new(), support::CRASH, 41);
    app.update(Event::Answer(Answer::Round {
        purpose: RoundPurpose::Verify,
        round: Ok(round),
    }));
    let verification = app.crash.verify.as_ref().unwrap();
    assert!(verification.passed(), "{verification:?}");
    check("verify", &app, 80, 24);
}

#[test]
fn craps_table() {
    let mut app = on(Screen::Craps);
    // The bet cursor moves up from the newest bet to the place 8.
    press(&mut app, &[Key::Char('6'), Key::Char('[')]);
    check("craps", &app, 80, 24);
    check("craps", &app, 120, 40);
    // The player holds the dice at this table.
    let text = draw(&app, 80, 24);
    assert!(text.contains("shooter: you"), "{text}");
}

#[test]
fn the_shooter_is_shown_when_someone_else_holds_the_dice() {
    let mut app = on(Screen::Craps);
    let mut tables = support::tables();
    let craps = tables.iter_mut().find(|t| t.id == support::CRAPS).unwrap();
    craps.players.push(support::other(3));
    craps.shooter = Some(support::other(3));
    app.update(Event::Answer(Answer::Tables(Ok(tables))));
    let text = draw(&app, 80, 24);
    let short = tui::ui::short_address(&support::other(3));
    assert!(text.contains(&format!("shooter: {short}")), "{text}");
    assert!(!text.contains("shooter: you"), "{text}");
}

#[test]
fn the_chosen_bet_of_a_long_list_stays_in_view() {
    use consensus::receipt::{LedgerEvent, Wager};
    use game_rules::Chips;
    use game_rules::craps::BetKind;
    let mut app = on(Screen::Craps);
    for bet in 20..30 {
        app.update(support::craps_event(LedgerEvent::BetPlaced {
            table: support::CRAPS,
            round: 7,
            bet,
            player: support::me(),
            wager: Wager::Craps {
                kind: BetKind::Field,
            },
            amount: Chips(5),
        }));
    }
    // The bet placed last has the cursor; the list scrolls to show it.
    let text = draw(&app, 80, 24);
    assert!(text.contains("▶ #29"), "{text}");
    assert!(!text.contains("#11 "), "{text}");
    // All the way up: the oldest bet is shown and chosen.
    press(&mut app, &[Key::Char('['); 20]);
    let text = draw(&app, 80, 24);
    assert!(text.contains("▶ #11"), "{text}");
    assert!(!text.contains("#29"), "{text}");
}

#[test]
fn wallet_and_tables() {
    let mut app = on(Screen::Wallet);
    press(&mut app, &[Key::Down]);
    check("wallet", &app, 80, 24);
    check("wallet", &app, 120, 40);
}

#[test]
fn validator_view() {
    let app = on(Screen::Validator);
    check("validator", &app, 80, 24);
}

#[test]
fn help_and_prompt() {
    let mut app = on(Screen::Crash);
    press(&mut app, &[Key::Char('?')]);
    check("help", &app, 80, 24);
    press(
        &mut app,
        &[
            Key::Esc,
            Key::Char('x'),
            Key::Char('2'),
            Key::Char('.'),
            Key::Char('5'),
        ],
    );
    check("prompt", &app, 80, 24);
}

#[test]
fn errors_in_the_status_line() {
    let mut app = on(Screen::Crash);
    app.update(Event::Subscription(SubscriptionUpdate::Disconnected {
        reason: "connection lost: Connection reset without closing handshake".into(),
        attempt: 3,
        retry_in: Duration::from_secs(2),
    }));
    check("reconnecting", &app, 80, 24);
    app.update(Event::Answer(Answer::Status(Err(Failure {
        message: "the node at 127.0.0.1:7380 is unreachable (Connection refused); is it running?"
            .into(),
        unreachable: true,
    }))));
    check("unreachable", &app, 80, 24);
}
