//! The terminal UI against a live local testnet, in a real pseudo-terminal:
//! `testnet up --detach` (4 validators, 1 player node, the house tables),
//! then `bitcraps tui` — the command `testnet up` prints — under tmux. The
//! test presses the keys a player would: Enter bets on the crash table
//! (taking the seat first), Space cashes out once the round runs; it reads
//! the screen until the cash-out is shown, checks the balance on screen
//! against the node's API, and quits with `q`.
//!
//! A round may crash before the cash-out lands (1% crash at 1.00×, and the
//! cash-out needs a block); the test then bets again, up to a bound.

use std::time::{Duration, Instant};

use bitcraps_tests::{LiveTestnet, Tmux, base_port, flag_value};
use node::client::ApiClient;

/// The number after `label` on the screen (`balance 999976`).
fn number_after(screen: &str, label: &str) -> Option<u64> {
    let rest = &screen[screen.find(label)? + label.len()..];
    let digits: String = rest
        .trim_start()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_player_bets_and_cashes_out_in_the_tui_on_a_live_testnet() {
    let net = LiveTestnet::start(&format!(
        "validators = 4\nplayers = 1\nbase_port = {}\n\n[chain]\n\
         crash_betting_ms = 3000\ncrash_cooldown_ms = 1000\n",
        base_port(20_000, 40)
    ));
    assert!(
        net.up_output().contains("(crash, 0 of"),
        "no house crash table:\n{}",
        net.up_output()
    );
    // The command `testnet up` tells the player to run.
    let command = net.tui_command();
    let api = flag_value(&command, "--api");

    let tmux = Tmux::start("tui", &format!("{command}; echo TUI-EXIT=$?; sleep 30"));
    tmux.wait_for(&["connected · live"], Duration::from_secs(30))
        .unwrap_or_else(|e| panic!("{e}"));
    tmux.wait_for(&["balance "], Duration::from_secs(30))
        .unwrap_or_else(|e| panic!("{e}"));

    let mut won = None;
    for _ in 0..6 {
        tmux.wait_for(&["PLACE YOUR BETS"], Duration::from_secs(60))
            .unwrap_or_else(|e| net.fail(e));
        tmux.keys("Enter");
        if tmux.wait_for(&[" · in "], Duration::from_secs(30)).is_err() {
            continue;
        }
        tmux.wait_for(&["running"], Duration::from_secs(60))
            .unwrap_or_else(|e| net.fail(e));
        tmux.keys("Space");
        match tmux.wait_for(&["you won", "your bet is lost"], Duration::from_secs(60)) {
            Ok(screen) if screen.contains("you won") => {
                won = Some(screen);
                break;
            }
            _ => continue,
        }
    }
    let screen = won.unwrap_or_else(|| {
        panic!(
            "no cash-out in six rounds:\n{}\n{}",
            tmux.screen(),
            net.logs()
        )
    });
    assert!(screen.contains(" @ "), "the cash-out multiplier:\n{screen}");

    // The balance on screen is the ledger's.
    let client = ApiClient::new(&api).unwrap();
    let status = client.status().await.unwrap();
    let me = status.wallet.expect("the player node has a wallet");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let shown = number_after(&tmux.screen(), "balance ");
        let balance = client.account(&me, None, 1).await.unwrap().balance;
        if shown == Some(balance) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "screen balance {shown:?} never matched the API's {balance}:\n{}",
            tmux.screen()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    tmux.keys("q");
    let screen = tmux
        .wait_for(&["TUI-EXIT="], Duration::from_secs(10))
        .unwrap_or_else(|e| panic!("the TUI did not quit: {e}"));
    assert!(screen.contains("TUI-EXIT=0"), "{screen}");
}
