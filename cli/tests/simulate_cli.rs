//! `bitcraps simulate` as a user runs it: a real process, its output and exit code.

use std::process::Command;

fn bitcraps(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_bitcraps"))
        .args(args)
        .output()
        .expect("the bitcraps binary runs")
}

#[test]
fn default_suite_measures_every_edge_near_the_exact_edge() {
    let out = bitcraps(&["simulate", "--json", "-n", "20000", "--seed", "cli-test"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    let games: Vec<&str> = rows.iter().map(|r| r["game"].as_str().unwrap()).collect();
    assert!(
        games.contains(&"craps") && games.contains(&"crash"),
        "{games:?}"
    );
    for row in rows {
        assert_eq!(row["rounds"], 20000);
        let z = row["z"].as_f64().unwrap();
        // Fixed seed; a correct engine sits within a few standard errors.
        assert!(z.abs() < 4.0, "{row}");
    }
    let pass = rows.iter().find(|r| r["strategy"] == "pass").unwrap();
    assert_eq!(pass["exact_fraction"], "7/495");
}

#[test]
fn table_output_names_each_strategy_with_its_exact_fraction() {
    let out = bitcraps(&[
        "simulate", "craps", "-s", "field", "-s", "hop-6-6", "-n", "1000",
    ]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("field") && text.contains("1/36"), "{text}");
    assert!(text.contains("hop-6-6") && text.contains("5/36"), "{text}");
    assert!(!text.contains("crash "), "{text}");
}

#[test]
fn same_seed_prints_the_same_figures() {
    let args = [
        "simulate", "crash", "-s", "auto-3", "-n", "5000", "--seed", "x", "--json",
    ];
    assert_eq!(bitcraps(&args).stdout, bitcraps(&args).stdout);
}

#[test]
fn unknown_or_misplaced_strategies_fail_with_a_clear_error() {
    for args in [
        &["simulate", "-s", "martingale"][..],
        &["simulate", "crash", "-s", "pass"][..],
        &["simulate", "craps", "-s", "auto-2"][..],
        &["simulate", "crash", "-s", "auto-0.5"][..],
    ] {
        let out = bitcraps(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("unknown strategy") && err.contains("auto-X"),
            "{err}"
        );
        assert!(out.stdout.is_empty());
    }
    let out = bitcraps(&["simulate", "--rounds", "many"]);
    assert_eq!(out.status.code(), Some(2), "clap usage errors exit with 2");
}
