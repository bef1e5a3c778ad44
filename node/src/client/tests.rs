//! The client against the real [`ApiServer`] on `127.0.0.1:0`, in front of a
//! small in-memory node: every route it wraps, the structured errors, the
//! token from the cookie file, timeouts, an unreachable node, and a
//! subscription that survives a node restart.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use consensus::block::{BeaconEntry, Block, BlockTemplate};
use consensus::encoding::{BoundedBytes, BoundedVec};
use consensus::hash::Hash;
use consensus::receipt::{LedgerEvent, TxStatus};
use consensus::tx::{Action, TableGame, Transaction};
use game_rules::Chips;
use game_rules::craps::{BetKind, PointNumber, Working};
use game_rules::crash::Multiplier;
use tokio::sync::broadcast;
use wallet::{ChainId, Keypair};

use super::*;
use crate::api::{
    ApiConfig, ApiHandle, ApiServer, EventBatch, EventSender, NodeView, NodeWallet, OpenBet,
    OpenBetState, Page, RoundRandomness, RoundStatus, SubmitError, TxInclusion, TxRecord,
    ViewError, WalletSubmission,
};
use crate::metrics::Metrics;

fn chain_id() -> ChainId {
    ChainId::new([7; 32])
}

fn keypair() -> Keypair {
    Keypair::from_secret_bytes(&[1; 32])
}

/// A node with one block (with its finality certificate), a crash table 1
/// (round 4 open, round 3 crashed at 2.00×), a mempool that takes only
/// even nonces from 100, and two
/// transactions: [`included_tx`], pending for its first two reads and then
/// in block 1, and [`stuck_tx`], pending for ever.
struct TestNode {
    block: Block,
    included_reads: Mutex<u32>,
}

/// A transfer of [`keypair`] with `nonce`.
fn transfer(nonce: u64) -> SignedTransaction {
    Transaction {
        chain_id: chain_id(),
        sender: keypair().public_key(),
        nonce,
        fee: Chips(1),
        expiry_height: 100,
        action: Action::Transfer {
            to: Address::from_bytes([3; 20]),
            amount: Chips(5),
        },
    }
    .sign(&keypair())
}

fn included_tx() -> SignedTransaction {
    transfer(10)
}

fn stuck_tx() -> SignedTransaction {
    transfer(11)
}

impl TestNode {
    fn new() -> TestNode {
        let block = Block::assemble(
            BlockTemplate {
                chain_id: chain_id(),
                height: 1,
                view: 2,
                parent: Hash::ZERO,
                timestamp_ms: 1_700_000_000_000,
                proposer: keypair().public_key(),
                parent_state_root: Hash::ZERO,
            },
            vec![],
            vec![],
        )
        .unwrap();
        TestNode {
            block,
            included_reads: Mutex::new(0),
        }
    }
}

impl NodeView for TestNode {
    fn chain_id(&self) -> ChainId {
        chain_id()
    }

    fn status(&self) -> Result<NodeStatus, ViewError> {
        Ok(NodeStatus {
            chain_id: chain_id(),
            height: Some(1),
            block_hash: Some(self.block.header.hash()),
            epoch: 2,
            peers: 3,
            mempool_transactions: 0,
            min_fee: 3,
            syncing: false,
            sync: None,
        })
    }

    fn block_by_height(&self, height: u64) -> Result<Option<Block>, ViewError> {
        Ok((height == 1).then(|| self.block.clone()))
    }

    fn block_by_hash(&self, hash: &BlockHash) -> Result<Option<Block>, ViewError> {
        Ok((*hash == self.block.header.hash()).then(|| self.block.clone()))
    }

    fn finality_proof(&self, height: u64) -> Result<Option<Vec<u8>>, ViewError> {
        Ok((height == 1).then(|| vec![0xf1, 0x2a]))
    }

    fn transaction(&self, hash: &TxHash) -> Result<Option<TxRecord>, ViewError> {
        if *hash == stuck_tx().hash() {
            return Ok(Some(TxRecord {
                tx: stuck_tx(),
                inclusion: None,
            }));
        }
        if *hash != included_tx().hash() {
            return Ok(None);
        }
        let mut reads = self.included_reads.lock().unwrap();
        *reads += 1;
        let inclusion = (*reads > 2).then(|| TxInclusion {
            height: 1,
            block_hash: self.block.header.hash(),
            index: 0,
            receipt: Receipt {
                tx: *hash,
                status: TxStatus::Applied,
                fee_charged: Chips(1),
                events: BoundedVec::new(Vec::new()).unwrap(),
            },
        });
        Ok(Some(TxRecord {
            tx: included_tx(),
            inclusion,
        }))
    }

    fn account(&self, address: &Address, page: Page) -> Result<AccountInfo, ViewError> {
        Ok(AccountInfo {
            address: *address,
            balance: 1_000,
            nonce: 4,
            pending_nonce: 6,
            stake: 0,
            bankroll_shares: 7,
            history: Vec::new(),
            next_before: page.before,
        })
    }

    fn validators(&self) -> Result<Vec<ValidatorInfo>, ViewError> {
        Err(ViewError::Unavailable(
            "the validator set is loading".into(),
        ))
    }

    fn tables(&self) -> Result<Vec<TableInfo>, ViewError> {
        Ok(vec![TableInfo {
            id: TableId(1),
            name: "Moon".into(),
            owner: keypair().address(),
            game: TableGame::Crash {
                min_bet: Chips(1),
                max_bet: Chips(1_000),
            },
            max_players: 10,
            players: vec![keypair().address()],
            round: Some(4),
            shooter: None,
        }])
    }

    fn table_rounds(
        &self,
        table: TableId,
        page: Page,
    ) -> Result<Option<Vec<RoundSummary>>, ViewError> {
        Ok((table == TableId(1)).then(|| (1..=4).rev().take(page.limit).map(summary).collect()))
    }

    fn table_bets(
        &self,
        table: TableId,
        player: Option<&Address>,
    ) -> Result<Option<Vec<OpenBet>>, ViewError> {
        let bet = OpenBet {
            bet: 7,
            player: Keypair::from_secret_bytes(&[5; 32]).address(),
            amount: Chips(40),
            wager: consensus::receipt::Wager::Craps {
                kind: BetKind::Place(PointNumber::Nine),
            },
            state: OpenBetState::Craps {
                odds: Chips::ZERO,
                point: None,
                working: Working::On,
                works_next_roll: true,
            },
        };
        Ok((table == TableId(1)).then(|| {
            [bet]
                .into_iter()
                .filter(|b| player.is_none_or(|p| b.player == *p))
                .collect()
        }))
    }

    fn round(&self, table: TableId, round: u64) -> Result<Option<RoundInfo>, ViewError> {
        if table != TableId(1) || round != 3 {
            return Ok(None);
        }
        Ok(Some(RoundInfo {
            summary: summary(3),
            randomness: vec![RoundRandomness {
                entry: BeaconEntry {
                    height: 1,
                    signature: BoundedBytes::new(vec![0xbb; 48]).unwrap(),
                },
                published_height: 2,
                epoch: 2,
                message: "cc".repeat(40),
                group_public_key: "aa".repeat(96),
                derivation: "bitcraps/v1/crash".into(),
            }],
            events: vec![LedgerEvent::Crashed {
                table,
                round,
                at: Multiplier::from_hundredths(200).unwrap(),
                beacon_height: 1,
            }],
        }))
    }

    fn leaderboard(
        &self,
        _: Option<Game>,
        limit: usize,
    ) -> Result<Vec<LeaderboardEntry>, ViewError> {
        Ok((1..=limit.min(3) as u32)
            .map(|rank| LeaderboardEntry {
                rank,
                address: Address::from_bytes([rank as u8; 20]),
                net_winnings: 10 - i64::from(rank) * 5,
                wagered: 100,
                bets: 3,
            })
            .collect())
    }

    fn bankroll(&self) -> Result<BankrollInfo, ViewError> {
        Ok(BankrollInfo {
            balance: 1_000_000,
            total_shares: u128::MAX,
            pending_withdrawal_shares: 0,
            withdrawal_delay_blocks: 10,
            exposure: 0,
            max_round_exposure_bps: 300,
        })
    }

    fn submit_transaction(&self, tx: SignedTransaction) -> Result<TxHash, SubmitError> {
        // Even nonces from 100 are taken (the batch tests), others refused.
        if tx.tx.nonce >= 100 && tx.tx.nonce.is_multiple_of(2) {
            return Ok(tx.hash());
        }
        Err(SubmitError::Refused(
            "nonce 0 is used; the next is 4".into(),
        ))
    }
}

fn summary(round: u64) -> RoundSummary {
    RoundSummary {
        table: TableId(1),
        round,
        game: Game::Crash,
        status: if round == 4 {
            RoundStatus::Betting
        } else {
            RoundStatus::Settled
        },
        opened_height: round,
        settled_height: None,
        bets: 1,
        wagered: 10,
        paid: 0,
        outcome: None,
    }
}

/// Records the wallet actions it is asked to send.
#[derive(Default)]
struct TestWallet {
    actions: Mutex<Vec<(Action, Option<Chips>)>>,
}

impl NodeWallet for TestWallet {
    fn address(&self) -> Address {
        Address::from_bytes([9; 20])
    }

    fn submit_action(
        &self,
        action: Action,
        fee: Option<Chips>,
    ) -> Result<WalletSubmission, SubmitError> {
        if let Action::CrashCashOut { .. } = action {
            return Err(SubmitError::Refused(
                "you have no running bet on table 1".into(),
            ));
        }
        let mut actions = self.actions.lock().unwrap();
        actions.push((action, fee));
        Ok(WalletSubmission {
            hash: Hash::new([actions.len() as u8; 32]),
            nonce: actions.len() as u64,
            fee: fee.map_or(1, |f| f.0),
        })
    }
}

struct Server {
    addr: SocketAddr,
    handle: Option<ApiHandle>,
    wallet: Arc<TestWallet>,
    events: EventSender,
    cookie: PathBuf,
    _dir: Arc<tempfile::TempDir>,
}

impl Server {
    async fn start() -> Server {
        let dir = Arc::new(tempfile::tempdir().unwrap());
        Server::on("127.0.0.1:0".parse().unwrap(), dir).await
    }

    /// A server on `listen`, its cookie in `dir`.
    async fn on(listen: SocketAddr, dir: Arc<tempfile::TempDir>) -> Server {
        Server::limited(listen, dir, ApiConfig::default().rate_limit_per_second).await
    }

    /// [`Server::on`] with another rate limit (0: none).
    async fn limited(
        listen: SocketAddr,
        dir: Arc<tempfile::TempDir>,
        rate_limit_per_second: u32,
    ) -> Server {
        let cookie = dir.path().join("api.cookie");
        let config = ApiConfig {
            listen,
            cookie_file: cookie.clone(),
            rate_limit_per_second,
            ..ApiConfig::default()
        };
        let wallet = Arc::new(TestWallet::default());
        let (events, _) = broadcast::channel(64);
        let (addr, handle) = ApiServer::bind(
            config,
            Arc::new(TestNode::new()),
            Some(wallet.clone()),
            events.clone(),
            Arc::new(Metrics::new()),
        )
        .await
        .unwrap();
        Server {
            addr,
            handle: Some(handle),
            wallet,
            events,
            cookie,
            _dir: dir,
        }
    }

    fn client(&self) -> ApiClient {
        ApiClient::new(&format!("http://{}", self.addr))
            .unwrap()
            .with_cookie(&self.cookie)
            .with_timeout(Duration::from_secs(5))
    }

    async fn stop(mut self) -> (SocketAddr, Arc<tempfile::TempDir>) {
        self.handle.take().unwrap().shutdown().await.unwrap();
        (self.addr, self._dir)
    }
}

#[test]
fn urls_are_checked() {
    let endpoint = Endpoint::parse("http://localhost:9000/").unwrap();
    assert_eq!((endpoint.host.as_str(), endpoint.port), ("localhost", 9000));
    assert_eq!(endpoint.authority, "localhost:9000");
    let default = Endpoint::parse("http://127.0.0.1").unwrap();
    assert_eq!(default.port, crate::api::DEFAULT_API_PORT);
    let v6 = Endpoint::parse("http://[::1]:7380").unwrap();
    assert_eq!(
        (v6.host.as_str(), v6.authority.as_str()),
        ("::1", "[::1]:7380")
    );
    for bad in [
        "127.0.0.1:7380",
        "https://127.0.0.1",
        "http://127.0.0.1/v1",
        "not a url",
    ] {
        assert!(
            matches!(ApiClient::new(bad), Err(ClientError::BadUrl { .. })),
            "{bad}"
        );
    }
}

#[test]
fn backoff_doubles_up_to_its_maximum() {
    let backoff = Backoff {
        initial: Duration::from_millis(100),
        max: Duration::from_secs(1),
    };
    let delays: Vec<u128> = (1..=6).map(|n| backoff.delay(n).as_millis()).collect();
    assert_eq!(delays, [100, 200, 400, 800, 1_000, 1_000]);
    assert_eq!(backoff.delay(u32::MAX), Duration::from_secs(1));
}

#[tokio::test]
async fn reads_return_the_api_types() {
    let server = Server::start().await;
    let client = server.client();

    client.health().await.unwrap();
    let ready = client.ready().await.unwrap();
    assert!(ready.ready);
    assert_eq!(ready.height, Some(1));

    let status = client.status().await.unwrap();
    assert_eq!(status.node.epoch, 2);
    assert_eq!(status.node.peers, 3);
    assert_eq!(status.wallet, Some(Address::from_bytes([9; 20])));

    assert_eq!(status.node.min_fee, 3);

    let block = client.block(1).await.unwrap();
    assert_eq!(block.height, 1);
    assert_eq!(block.proof_bytes().unwrap(), Some(vec![0xf1, 0x2a]));
    assert_eq!(client.latest_block().await.unwrap(), block);
    assert_eq!(client.block_by_hash(&block.hash).await.unwrap(), block);

    let me = keypair().address();
    let account = client.account(&me, Some(9), 5).await.unwrap();
    assert_eq!(
        (account.balance, account.nonce, account.pending_nonce),
        (1_000, 4, 6)
    );
    assert_eq!(account.next_before, Some(9));

    let tables = client.tables().await.unwrap();
    assert_eq!(tables.len(), 1);
    assert_eq!(tables[0].round, Some(4));

    let page = client.table_rounds(TableId(1), None, 2).await.unwrap();
    assert_eq!(
        page.rounds.iter().map(|r| r.round).collect::<Vec<_>>(),
        [4, 3]
    );
    assert_eq!(page.next_before, Some(3));

    let bets = client.table_bets(TableId(1), None).await.unwrap();
    assert_eq!(bets.len(), 1);
    assert!(matches!(
        bets[0].state,
        OpenBetState::Craps {
            working: Working::On,
            ..
        }
    ));
    let bettor = bets[0].player;
    assert_eq!(
        client.table_bets(TableId(1), Some(&bettor)).await.unwrap(),
        bets
    );
    let nobody = Keypair::from_secret_bytes(&[6; 32]).address();
    assert!(
        client
            .table_bets(TableId(1), Some(&nobody))
            .await
            .unwrap()
            .is_empty()
    );

    let round = client.round(TableId(1), 3).await.unwrap();
    assert!(matches!(
        round.events[0],
        LedgerEvent::Crashed { at, .. } if at.hundredths() == 200
    ));

    let leaders = client.leaderboard(Some(Game::Crash), 2).await.unwrap();
    assert_eq!(leaders.len(), 2);
    assert_eq!(client.bankroll().await.unwrap().total_shares, u128::MAX);
    assert!(client.metrics().await.unwrap().contains("bitcraps_"));
    server.stop().await;
}

#[tokio::test]
async fn api_errors_are_typed() {
    let server = Server::start().await;
    let client = server.client();

    let missing = client.round(TableId(1), 99).await.unwrap_err();
    match &missing {
        ClientError::Api {
            status,
            code,
            message,
            ..
        } => {
            assert_eq!(*status, StatusCode::NOT_FOUND);
            assert_eq!(code, "not_found");
            assert!(message.contains("no round 99"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert!(!missing.is_transient());

    let loading = client.validators().await.unwrap_err();
    assert_eq!(loading.code(), Some("unavailable"));
    assert!(matches!(
        loading,
        ClientError::Api {
            retry_after: Some(1),
            ..
        }
    ));
    assert!(loading.is_transient());

    let tx = Transaction {
        chain_id: chain_id(),
        sender: keypair().public_key(),
        nonce: 0,
        fee: Chips(1),
        expiry_height: 100,
        action: Action::Faucet { amount: Chips(5) },
    }
    .sign(&keypair());
    let refused = client.submit_transaction(&tx).await.unwrap_err();
    assert_eq!(refused.code(), Some("transaction_refused"));
    server.stop().await;
}

#[tokio::test]
async fn waiting_ends_at_inclusion_a_timeout_or_a_dropped_transaction() {
    let server = Server::start().await;
    let client = server.client();
    let hash = included_tx().hash();
    let reply = client
        .wait_included(&hash, Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(reply.status, TxState::Applied);
    assert_eq!(reply.block_height, Some(1));
    assert_eq!(reply.receipt.unwrap().tx, hash);

    let stuck = stuck_tx().hash();
    let started = std::time::Instant::now();
    let error = client
        .wait_included(&stuck, Duration::from_millis(600))
        .await
        .unwrap_err();
    assert!(
        matches!(error, ClientError::StillPending { hash, .. } if hash == stuck),
        "{error:?}"
    );
    assert!(error.to_string().contains("explore tx"), "{error}");
    assert!(started.elapsed() < Duration::from_secs(5));

    let unknown = Hash::new([0xee; 32]);
    let error = client
        .wait_included(&unknown, Duration::from_secs(10))
        .await
        .unwrap_err();
    assert!(matches!(error, ClientError::Dropped(hash) if hash == unknown));
    server.stop().await;
}

#[tokio::test]
async fn wallet_calls_carry_the_cookie_token() {
    let server = Server::start().await;
    let client = server.client();

    let actions = [
        (
            Action::CrashBet {
                table: TableId(1),
                amount: Chips(50),
                auto_cash_out: Some(231),
            },
            None,
        ),
        (
            Action::CrapsBet {
                table: TableId(2),
                kind: BetKind::Place(PointNumber::Eight),
                amount: Chips(12),
            },
            Some(2),
        ),
        (
            Action::Transfer {
                to: keypair().address(),
                amount: Chips(7),
            },
            None,
        ),
        (Action::JoinTable { table: TableId(2) }, None),
        (
            Action::CrapsSetWorking {
                table: TableId(2),
                bet: 4,
                working: Working::Off,
            },
            None,
        ),
        (Action::Stake { amount: Chips(100) }, None),
    ];
    for (action, fee) in &actions {
        let reply = client.act(action, *fee).await.unwrap();
        assert_eq!(reply.sender, Address::from_bytes([9; 20]));
        assert_eq!(reply.status, TxState::Pending);
    }
    let expected: Vec<(Action, Option<Chips>)> = actions
        .iter()
        .map(|(action, fee)| (action.clone(), fee.map(Chips)))
        .collect();
    assert_eq!(*server.wallet.actions.lock().unwrap(), expected);

    let refused = client
        .act(&Action::CrashCashOut { table: TableId(1) }, None)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Some("transaction_refused"));

    let stake = Action::Stake { amount: Chips(1) };
    let anonymous = ApiClient::new(&format!("http://{}", server.addr)).unwrap();
    assert!(matches!(
        anonymous.act(&stake, None).await,
        Err(ClientError::NoCookie)
    ));
    let dir = tempfile::tempdir().unwrap();
    let stale = dir.path().join("old.cookie");
    std::fs::write(&stale, "00".repeat(32)).unwrap();
    let wrong = anonymous.clone().with_cookie(&stale);
    assert_eq!(
        wrong.act(&stake, None).await.unwrap_err().code(),
        Some("invalid_token")
    );
    let gone = anonymous.with_cookie(dir.path().join("missing.cookie"));
    assert!(matches!(
        gone.act(&stake, None).await,
        Err(ClientError::Cookie { .. })
    ));
    assert_eq!(server.wallet.actions.lock().unwrap().len(), actions.len());
    server.stop().await;
}

#[tokio::test]
async fn an_absent_or_silent_node_is_an_error_not_a_hang() {
    // A port nobody listens on.
    let free = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = free.local_addr().unwrap();
    drop(free);
    let client = ApiClient::new(&format!("http://{addr}")).unwrap();
    let error = client.status().await.unwrap_err();
    assert!(
        matches!(error, ClientError::Unreachable { .. }),
        "{error:?}"
    );
    assert!(error.is_transient());

    // A node that accepts and never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = ApiClient::new(&format!("http://{}", silent.local_addr().unwrap()))
        .unwrap()
        .with_timeout(Duration::from_millis(200));
    let held = tokio::spawn(async move {
        let (socket, _) = silent.accept().await.unwrap();
        tokio::time::sleep(Duration::from_secs(5)).await;
        drop(socket);
    });
    assert!(matches!(
        client.status().await,
        Err(ClientError::Timeout(_))
    ));
    held.abort();
}

/// The next update that is not a disconnection (those come while the node
/// is away).
async fn next_update(subscription: &mut Subscription) -> SubscriptionUpdate {
    tokio::time::timeout(Duration::from_secs(10), subscription.next())
        .await
        .expect("an update within 10 s")
        .expect("the subscription runs")
}

fn tick(round: u64, hundredths: u64) -> ApiEvent {
    ApiEvent::Table {
        table: TableId(1),
        game: Game::Crash,
        height: 5,
        event: LedgerEvent::CrashTick {
            table: TableId(1),
            round,
            multiplier: Multiplier::from_hundredths(hundredths).unwrap(),
            elapsed_ms: 1_000,
        },
    }
}

#[tokio::test]
async fn subscriptions_reconnect_and_resubscribe() {
    let server = Server::start().await;
    let client = server.client().with_backoff(Backoff {
        initial: Duration::from_millis(50),
        max: Duration::from_millis(200),
    });
    let mut subscription = client.subscribe([Topic::Crash(TableId(1))]);
    assert_eq!(
        next_update(&mut subscription).await,
        SubscriptionUpdate::Connected {
            topics: vec![Topic::Crash(TableId(1))]
        }
    );
    // Only subscribed topics arrive.
    server
        .events
        .send(EventBatch::from(vec![ApiEvent::Block {
            height: 2,
            hash: Hash::ZERO,
            timestamp_ms: 1,
            transaction_count: 0,
        }]))
        .unwrap();
    server
        .events
        .send(EventBatch::from(vec![tick(4, 150)]))
        .unwrap();
    assert_eq!(
        next_update(&mut subscription).await,
        SubscriptionUpdate::Event(Box::new(tick(4, 150)))
    );

    // A bad topic set is refused without dropping the connection.
    subscription.subscribe((0..40).map(|n| Topic::Craps(TableId(n))));
    assert!(matches!(
        next_update(&mut subscription).await,
        SubscriptionUpdate::Refused { code, .. } if code == "too_many_topics"
    ));
    subscription.unsubscribe((0..40).map(|n| Topic::Craps(TableId(n))));

    // The node restarts on the same port: the subscription notices, backs
    // off, reconnects and subscribes again.
    let (addr, dir) = server.stop().await;
    match next_update(&mut subscription).await {
        SubscriptionUpdate::Disconnected { attempt, .. } => assert_eq!(attempt, 1),
        other => panic!("{other:?}"),
    }
    let server = Server::on(addr, dir).await;
    let topics = loop {
        match next_update(&mut subscription).await {
            SubscriptionUpdate::Connected { topics } => break topics,
            SubscriptionUpdate::Disconnected { retry_in, .. } => {
                assert!(retry_in <= Duration::from_millis(200))
            }
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(topics, [Topic::Crash(TableId(1))]);
    server
        .events
        .send(EventBatch::from(vec![tick(5, 120)]))
        .unwrap();
    assert_eq!(
        next_update(&mut subscription).await,
        SubscriptionUpdate::Event(Box::new(tick(5, 120)))
    );
    drop(subscription);
    server.stop().await;
}

#[tokio::test]
async fn batches_answer_per_transaction_in_order() {
    let server = Server::start().await;
    let client = server.client();
    let mut forged = transfer(104);
    forged.signature = wallet::Signature::from_bytes([7; 64]);
    let txs = vec![transfer(100), transfer(101), transfer(102), forged.clone()];
    let results = client.submit_transactions(&txs).await.unwrap();
    assert_eq!(results.len(), 4);
    assert_eq!(results[0].as_ref().unwrap(), &txs[0].hash());
    assert_eq!(
        results[1].as_ref().unwrap_err().code(),
        Some("transaction_refused")
    );
    assert_eq!(results[2].as_ref().unwrap(), &txs[2].hash());
    match &results[3] {
        Err(ClientError::Api { status, code, .. }) => {
            assert_eq!(*status, StatusCode::BAD_REQUEST);
            assert_eq!(code, "invalid_transaction");
        }
        other => panic!("{other:?}"),
    }
    // More than one request's worth is split, and each transaction costs a
    // rate-limit token: the second request waits out the first's debt.
    let many: Vec<SignedTransaction> = (0..MAX_BATCH_TRANSACTIONS as u64 + 3)
        .map(|i| transfer(100 + i))
        .collect();
    let limited = client.submit_transactions(&many).await.unwrap_err();
    assert_eq!(limited.code(), Some("rate_limited"));
    server.stop().await;
    // Without a rate limit, the order is kept across requests.
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let server = Server::limited("127.0.0.1:0".parse().unwrap(), dir, 0).await;
    let client = server.client();
    let results = client.submit_transactions(&many).await.unwrap();
    assert_eq!(results.len(), many.len());
    for (tx, result) in many.iter().zip(&results) {
        assert_eq!(result.is_ok(), tx.tx.nonce.is_multiple_of(2));
        if let Ok(hash) = result {
            assert_eq!(*hash, tx.hash());
        }
    }
    assert!(client.submit_transactions(&[]).await.unwrap().is_empty());
    server.stop().await;
}

#[tokio::test]
async fn pooled_connections_survive_a_node_restart() {
    let server = Server::start().await;
    let client = server.client();
    client.status().await.unwrap();
    client.status().await.unwrap();
    assert_eq!(client.pool.idle(), 1, "one connection, kept");
    let (addr, dir) = server.stop().await;
    let server = Server::on(addr, dir).await;
    // The pooled connection is dead; the client notices and reconnects.
    let status = client.status().await.unwrap();
    assert_eq!(status.node.height, Some(1));
    let submitted = client.submit_transaction(&transfer(100)).await.unwrap();
    assert_eq!(submitted.hash, transfer(100).hash());
    server.stop().await;
}

/// What a [`ScriptedServer`] does with the `request`-th request (from 0)
/// of its `connection`-th connection (from 0).
type Script = fn(connection: usize, request: usize) -> bool;

/// A bare HTTP/1.1 server that answers `{}`-like bodies with keep-alive, or
/// reads a request and closes the connection without answering (a node
/// that died after receiving it), as its script says; it records every
/// request it read as (connection, method, path).
struct ScriptedServer {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<(usize, String, String)>>>,
    task: JoinHandle<()>,
}

impl ScriptedServer {
    async fn start(script: Script) -> ScriptedServer {
        use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let task = tokio::spawn(async move {
            let mut connection = 0;
            loop {
                let (socket, _) = listener.accept().await.unwrap();
                let log = log.clone();
                let this = connection;
                connection += 1;
                tokio::spawn(async move {
                    let mut socket = BufReader::new(socket);
                    for request in 0.. {
                        let mut line = String::new();
                        if socket.read_line(&mut line).await.unwrap_or(0) == 0 {
                            return;
                        }
                        let mut parts = line.split_whitespace();
                        let method = parts.next().unwrap_or("").to_owned();
                        let path = parts.next().unwrap_or("").to_owned();
                        let mut length = 0;
                        loop {
                            let mut header = String::new();
                            socket.read_line(&mut header).await.unwrap();
                            if header.trim().is_empty() {
                                break;
                            }
                            if let Some(value) =
                                header.to_ascii_lowercase().strip_prefix("content-length:")
                            {
                                length = value.trim().parse().unwrap();
                            }
                        }
                        let mut body = vec![0; length];
                        socket.read_exact(&mut body).await.unwrap();
                        log.lock().unwrap().push((this, method, path.clone()));
                        if !script(this, request) {
                            return;
                        }
                        let answer = if path == "/v1/txs" {
                            format!(
                                r#"{{"hash":"{}","status":"pending"}}"#,
                                transfer(100).hash()
                            )
                        } else {
                            "{}".to_owned()
                        };
                        let head = format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                            answer.len()
                        );
                        let stream = socket.get_mut();
                        stream.write_all(head.as_bytes()).await.unwrap();
                        stream.write_all(answer.as_bytes()).await.unwrap();
                    }
                });
            }
        });
        ScriptedServer { addr, seen, task }
    }

    fn client(&self) -> ApiClient {
        ApiClient::new(&format!("http://{}", self.addr))
            .unwrap()
            .with_timeout(Duration::from_secs(5))
    }

    fn seen(&self) -> Vec<(usize, String, String)> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for ScriptedServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Answers everything except the second request of the first connection,
/// which it reads and then drops.
fn dies_after_second_request(connection: usize, request: usize) -> bool {
    !(connection == 0 && request == 1)
}

#[tokio::test]
async fn sequential_requests_share_one_connection() {
    let server = ScriptedServer::start(|_, _| true).await;
    let client = server.client();
    for _ in 0..5 {
        client.health().await.unwrap();
    }
    // Clones share the pool.
    client.clone().health().await.unwrap();
    let seen = server.seen();
    assert_eq!(seen.len(), 6);
    assert!(
        seen.iter().all(|(connection, _, _)| *connection == 0),
        "{seen:?}"
    );
}

#[tokio::test]
async fn idempotent_requests_are_resent_on_a_new_connection() {
    let server = ScriptedServer::start(dies_after_second_request).await;
    let client = server.client();
    client.health().await.unwrap();
    // Reaches the node, which dies without answering: sent again.
    client.health().await.unwrap();
    let seen = server.seen();
    assert_eq!(
        seen.iter()
            .map(|(c, _, p)| (*c, p.as_str()))
            .collect::<Vec<_>>(),
        vec![(0, "/health"), (0, "/health"), (1, "/health")]
    );

    // Submitting a signed transaction is idempotent too.
    let server = ScriptedServer::start(dies_after_second_request).await;
    let client = server.client();
    client.health().await.unwrap();
    let submitted = client.submit_transaction(&transfer(100)).await.unwrap();
    assert_eq!(submitted.hash, transfer(100).hash());
    let posts = server
        .seen()
        .into_iter()
        .filter(|(_, m, _)| m == "POST")
        .count();
    assert_eq!(posts, 2);
}

#[tokio::test]
async fn a_wallet_request_that_may_have_arrived_is_never_resent() {
    let server = ScriptedServer::start(dies_after_second_request).await;
    let dir = tempfile::tempdir().unwrap();
    let cookie = dir.path().join("api.cookie");
    std::fs::write(&cookie, "00".repeat(32)).unwrap();
    let client = server.client().with_cookie(&cookie);
    client.health().await.unwrap();
    let stake = Action::Stake { amount: Chips(5) };
    let error = client.act(&stake, None).await.unwrap_err();
    assert!(matches!(error, ClientError::Http(_)), "{error:?}");
    let posts: Vec<_> = server
        .seen()
        .into_iter()
        .filter(|(_, m, _)| m == "POST")
        .collect();
    assert_eq!(posts.len(), 1, "sent once: {posts:?}");
    // The next request finds the pool emptied and opens a new connection.
    client.health().await.unwrap();
    assert_eq!(server.seen().last().unwrap().0, 1);
}
