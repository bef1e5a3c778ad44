//! `bitcraps testnet` refusing bad input with clear errors, through the
//! real binary.

use bitcraps_tests::bitcraps;

#[test]
fn a_bad_manifest_is_refused_before_anything_starts() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("bad.toml");
    for (text, expected) in [
        ("validators = 0\n", "run 1 to 64"),
        ("validatorz = 4\n", "validatorz"),
        (
            "[[faults]]\nat_secs = 5\nnode = \"validator-9\"\nkind = \"kill\"\n",
            "validator-9",
        ),
        (
            "[[faults]]\nat_secs = 5\nnode = \"validator-1\"\nkind = \"partition\"\nwith = [\"validator-7\"]\n",
            "validator-7",
        ),
        (
            "[[faults]]\nat_secs = 5\nnode = \"validator-1\"\nkind = \"pause\"\nwith = [\"validator-2\"]\n",
            "only applies to kind = \"partition\"",
        ),
    ] {
        std::fs::write(&manifest, text).unwrap();
        let testnet_dir = dir.path().join("net");
        let (ok, output) = bitcraps(&[
            "testnet",
            "up",
            "--manifest",
            manifest.to_str().unwrap(),
            "--dir",
            testnet_dir.to_str().unwrap(),
        ]);
        assert!(!ok, "{text}: {output}");
        assert!(output.contains(expected), "{text}: {output}");
        assert!(
            !testnet_dir.exists(),
            "nothing is written for a bad manifest"
        );
    }
}

#[test]
fn commands_on_a_directory_without_a_testnet_say_how_to_make_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_str().unwrap();
    for command in ["status", "check", "down"] {
        let (ok, output) = bitcraps(&["testnet", command, "--dir", path]);
        assert!(!ok, "{command}: {output}");
        assert!(output.contains("testnet up --dir"), "{command}: {output}");
    }
    let (ok, output) = bitcraps(&["testnet", "load", "--dir", path, "--duration", "5 parsecs"]);
    assert!(!ok);
    assert!(output.contains("unit"), "{output}");
}
