//! Accumulating rounds into a measured house edge with a confidence interval.

/// Sums over simulated rounds: what was wagered and what the player netted.
///
/// Sums are exact integers; only the variance uses floating point.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tally {
    rounds: u64,
    wagered: u128,
    player_net: i128,
    wagered_sq: f64,
    net_sq: f64,
    net_times_wagered: f64,
}

/// A measured house edge: `−Σ net / Σ wagered` over the rounds played.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EdgeEstimate {
    /// Rounds played.
    pub rounds: u64,
    /// Total chips wagered (including odds and later bets of a round).
    pub wagered: u128,
    /// The player's total net result in chips (negative when the house won).
    pub player_net: i128,
    /// The measured house edge per chip wagered.
    pub edge: f64,
    /// Half-width of the 95% confidence interval of `edge`.
    pub ci95: f64,
}

impl Tally {
    /// Records one round in which the player wagered `wagered` chips in total and
    /// ended `net` chips up (negative: down).
    pub fn record(&mut self, wagered: u64, net: i64) {
        self.rounds += 1;
        self.wagered += u128::from(wagered);
        self.player_net += i128::from(net);
        let (w, n) = (wagered as f64, net as f64);
        self.wagered_sq += w * w;
        self.net_sq += n * n;
        self.net_times_wagered += n * w;
    }

    /// The edge measured so far, with its 95% confidence interval.
    ///
    /// The edge is a ratio estimator (`−Σn / Σw`); its standard error comes from
    /// the delta method: `Var ≈ Σ (nᵢ + e·wᵢ)² / (Σw)²`, expanded in the sums kept.
    pub fn estimate(&self) -> EdgeEstimate {
        let w = self.wagered as f64;
        let edge = if w > 0.0 {
            -(self.player_net as f64) / w
        } else {
            0.0
        };
        let residual_sq =
            self.net_sq + 2.0 * edge * self.net_times_wagered + edge * edge * self.wagered_sq;
        let se = if w > 0.0 {
            residual_sq.max(0.0).sqrt() / w
        } else {
            0.0
        };
        EdgeEstimate {
            rounds: self.rounds,
            wagered: self.wagered,
            player_net: self.player_net,
            edge,
            ci95: 1.96 * se,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn even_money_coin_has_zero_edge_and_shrinking_interval() {
        let mut tally = Tally::default();
        for i in 0..10_000 {
            tally.record(10, if i % 2 == 0 { 10 } else { -10 });
        }
        let e = tally.estimate();
        assert_eq!(e.rounds, 10_000);
        assert_eq!(e.player_net, 0);
        assert_eq!(e.edge, 0.0);
        // One chip's standard deviation per chip wagered, over √10000 rounds.
        assert!((e.ci95 - 1.96 / 100.0).abs() < 1e-9, "{}", e.ci95);
    }

    #[test]
    fn losing_every_round_is_a_full_edge_with_no_spread() {
        let mut tally = Tally::default();
        for _ in 0..100 {
            tally.record(5, -5);
        }
        let e = tally.estimate();
        assert_eq!(e.edge, 1.0);
        assert!(e.ci95.abs() < 1e-12);
    }

    #[test]
    fn empty_tally_is_zero() {
        let e = Tally::default().estimate();
        assert_eq!((e.rounds, e.edge, e.ci95), (0, 0.0, 0.0));
    }
}
