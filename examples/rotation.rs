//! Rotation (feature `aws`): a service that holds a database "connection" built from the
//! password, reconnects when a refresh says the password changed, and refreshes at once when
//! the database refuses the password it has.
//!
//! Against a local moto server (creates the secret, then rotates it twice with
//! `PutSecretValue`, playing the part of a rotation function and of the database):
//!
//! ```sh
//! scripts/with-moto cargo run --example rotation --features aws
//! ```
//!
//! Against real AWS (standard credential chain; create `rotation-demo/db` with `username` and
//! `password` keys in your account and point `region`/`account` below at it), it refreshes every
//! 5 minutes and reconnects on each rotation until stopped:
//!
//! ```sh
//! cargo run --example rotation --features aws
//! ```

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::BehaviorVersion;
use ecs_secrets::aws::{Watch, WatchOptions};
use ecs_secrets::{EcsSecrets, Secret};
use tokio::sync::{mpsc, oneshot};

#[derive(Debug, EcsSecrets)]
#[ecs(region = "us-east-1", account = "123456789012")]
struct DbConfig {
    #[ecs(secret = "rotation-demo/db", key = "username")]
    username: String,
    #[ecs(secret = "rotation-demo/db", key = "password")]
    password: Secret<String>,
    /// A plain variable: the same in every refresh.
    #[ecs(env = "DB_HOST", default = "localhost")]
    host: String,
}

/// Stands in for the database server: it accepts the passwords it is told to, as a real one
/// does after a rotation function changed the user's password. `None` accepts anything.
#[derive(Clone, Default)]
struct Database {
    accepted: Arc<Mutex<Option<Vec<String>>>>,
}

impl Database {
    fn accept(&self, passwords: &[&str]) {
        let list = passwords.iter().map(|p| (*p).to_owned()).collect();
        *self.accepted.lock().unwrap() = Some(list);
    }

    fn authenticates(&self, password: &str) -> bool {
        match &*self.accepted.lock().unwrap() {
            None => true,
            Some(list) => list.iter().any(|p| p == password),
        }
    }
}

/// A connection opened with one version of the configuration.
struct Connection {
    config: Arc<DbConfig>,
    generation: u32,
}

impl Connection {
    fn open(config: Arc<DbConfig>, generation: u32) -> Connection {
        println!(
            "[service] connection #{generation} to {} as {}",
            config.host, config.username
        );
        Connection { config, generation }
    }

    fn query(&self, db: &Database) -> Result<(), &'static str> {
        if db.authenticates(self.config.password.expose_secret()) {
            Ok(())
        } else {
            Err("authentication failed")
        }
    }
}

/// The service: queries every 200 ms; reconnects when the watch has a newer password, whether
/// a background refresh found it or its own `refresh_now` after a refused query did. Reports
/// each new connection's generation on `events`; stops on `stop`, dropping its handle of the
/// watch.
async fn service(
    watch: Watch<DbConfig>,
    db: Database,
    events: mpsc::UnboundedSender<u32>,
    mut stop: oneshot::Receiver<()>,
) {
    let mut changes = watch.subscribe();
    let mut conn = Connection::open(watch.current(), 1);
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    // Reconnects only if the watch's value is newer than the connection's: a change can be
    // heard twice (the subscription and `refresh_now`'s answer), a reconnect must not happen twice.
    let reconnect = |conn: &mut Connection, why: &str| {
        let current = watch.current();
        if !Arc::ptr_eq(&current, &conn.config) {
            println!("[service] {why}: reconnecting");
            *conn = Connection::open(current, conn.generation + 1);
            let _ = events.send(conn.generation);
        }
    };
    loop {
        tokio::select! {
            change = changes.recv() => match change {
                Some(change) if change.contains("password") => {
                    reconnect(&mut conn, "the background refresh saw a new password");
                }
                Some(_) => {}
                None => return,
            },
            _ = &mut stop => return,
            _ = tick.tick() => {
                if let Err(why) = conn.query(&db) {
                    println!("[service] query refused ({why}); refreshing now");
                    match watch.refresh_now().await {
                        Ok(Some(change)) if change.contains("password") => {
                            reconnect(&mut conn, "refresh_now found a new password");
                        }
                        // AWSCURRENT still has the old one: the rotation is half-way.
                        Ok(_) => println!("[service] no newer password yet; will retry"),
                        // No values in the message, only fields, sources and AWS's codes.
                        Err(e) => eprintln!("[service] refresh failed, keeping the last value: {e}"),
                    }
                }
            }
        }
    }
}

// A multi-threaded `#[tokio::main]` works the same; the workspace's tokio has no
// `rt-multi-thread` feature, to keep one build of the AWS stack.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Ok(endpoint) = std::env::var(ecs_secrets_testkit::ENDPOINT_VAR) else {
        // Real AWS: the default 5 minutes ±10 %, until stopped.
        let config = aws_config::load_defaults(BehaviorVersion::latest()).await;
        let watch = ecs_secrets::aws::Loader::new(&config)
            .watch::<DbConfig>(WatchOptions::new().initial(ecs_secrets::aws::Initial::Load))
            .await?;
        let (events, mut reconnects) = mpsc::unbounded_channel();
        let (_stop, stop) = oneshot::channel();
        tokio::spawn(service(watch, Database::default(), events, stop));
        while reconnects.recv().await.is_some() {}
        return Ok(());
    };

    println!("# local endpoint {endpoint}: creating rotation-demo/db");
    let config = ecs_secrets_testkit::sdk_config(&endpoint).await;
    let secret = |password: &str| format!(r#"{{"username":"app","password":"{password}"}}"#);
    let arn =
        ecs_secrets_testkit::create_secret(&config, "rotation-demo/db", &secret("first-pw")).await;
    let db = Database::default();
    db.accept(&["first-pw"]);

    let watch = ecs_secrets::aws::Loader::new(&config)
        .watch::<DbConfig>(WatchOptions::new().interval(Duration::from_secs(1)))
        .await?;
    let (events, mut reconnects) = mpsc::unbounded_channel();
    let (stop, stopped) = oneshot::channel();
    let mut changes = watch.subscribe();
    let task = tokio::spawn(service(watch.clone(), db.clone(), events, stopped));
    let reconnected = async |reconnects: &mut mpsc::UnboundedReceiver<u32>| {
        tokio::time::timeout(Duration::from_secs(30), reconnects.recv())
            .await
            .ok()
            .flatten()
            .ok_or("the service did not reconnect within 30 s")
    };

    // Rotation 1, the gentle order: the database accepts both passwords while AWSCURRENT moves,
    // and the background refresh (every second here) finds the new one.
    println!("# rotation 1: new secret version; the database accepts old and new");
    db.accept(&["first-pw", "second-pw"]);
    ecs_secrets_testkit::put_secret_value(&config, &arn, &secret("second-pw")).await;
    let generation = reconnected(&mut reconnects).await?;
    db.accept(&["second-pw"]);
    println!("# connection #{generation} in use; the old password is revoked");

    // Rotation 2, the abrupt order of single-user rotation: the database changes first, so
    // queries fail until AWSCURRENT moves; the service refreshes at once on each failure.
    println!("# rotation 2: the database changes first, the secret 600 ms later");
    db.accept(&["third-pw"]);
    tokio::time::sleep(Duration::from_millis(600)).await;
    ecs_secrets_testkit::put_secret_value(&config, &arn, &secret("third-pw")).await;
    let generation = reconnected(&mut reconnects).await?;
    println!("# connection #{generation} in use");

    let status = watch.status();
    println!(
        "# status: {} refreshes, {} failed, last error: {:?}",
        status.refreshes,
        status.failures,
        status.last_error.map(|e| e.to_string())
    );
    // The service's handle and this one are the last: once both are dropped, the background
    // refresh stops, and subscriptions end.
    let _ = stop.send(());
    task.await?;
    drop(watch);
    while changes.recv().await.is_some() {}
    println!("# service stopped, watch dropped, background refresh stopped");
    Ok(())
}
