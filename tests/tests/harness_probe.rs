#[test]
fn probe() {
    let b = bitcraps_tests::bitcraps_binary();
    println!("{}", b.display());
}
