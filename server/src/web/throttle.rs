//! Login throttling, so that a password guesser works at the relay's pace and not the mail
//! server's, and the mail server's own protection does not lock out every user of the relay
//! (it sees only the relay's address).
//!
//! Failed logins are counted per client address and per account. Past a few, that address (or
//! that account) waits before its next attempt reaches the mail server, twice as long after
//! every further failure. A success clears the count. An account tolerates more failures than
//! an address, so a guesser on one address cannot lock its owner out elsewhere. At most
//! [`IN_FLIGHT`] logins talk to the mail server at once.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::Mutex,
    time::{Duration, Instant},
};

use tokio::sync::{Semaphore, SemaphorePermit};

/// Failures allowed from one address before it has to wait.
pub const PER_ADDRESS: u32 = 5;
/// Failures allowed on one account (from anywhere) before it has to wait.
pub const PER_ACCOUNT: u32 = 20;
const FIRST_WAIT: Duration = Duration::from_secs(1);
const LONGEST_WAIT: Duration = Duration::from_secs(15 * 60);
const IN_FLIGHT: usize = 16;
/// Counts this old are forgotten (and the maps kept small).
const FORGET_AFTER: Duration = Duration::from_secs(60 * 60);

pub struct Throttle {
    addresses: Mutex<HashMap<IpAddr, Failures>>,
    accounts: Mutex<HashMap<String, Failures>>,
    in_flight: Semaphore,
}

#[derive(Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

impl Failures {
    /// How long from now until another attempt may be made, past `allowed` failures.
    fn wait(&self, allowed: u32, now: Instant) -> Option<Duration> {
        let over = self.count.checked_sub(allowed)?;
        let wait = FIRST_WAIT
            .saturating_mul(2u32.saturating_pow(over.min(20)))
            .min(LONGEST_WAIT);
        let until = self.last + wait;
        (until > now).then(|| until - now)
    }
}

impl Default for Throttle {
    fn default() -> Self {
        Self {
            addresses: Mutex::default(),
            accounts: Mutex::default(),
            in_flight: Semaphore::new(IN_FLIGHT),
        }
    }
}

impl Throttle {
    /// Whether a login from `client` to `account` may go to the mail server now: a permit to
    /// hold while it does, or how long to wait.
    pub async fn admit(
        &self,
        client: IpAddr,
        account: &str,
    ) -> Result<SemaphorePermit<'_>, Duration> {
        let now = Instant::now();
        let by_address = self
            .lock_addresses()
            .get(&client)
            .and_then(|f| f.wait(PER_ADDRESS, now));
        let by_account = self
            .lock_accounts()
            .get(&account.to_lowercase())
            .and_then(|f| f.wait(PER_ACCOUNT, now));
        if let Some(wait) = by_address.max(by_account) {
            return Err(wait);
        }
        Ok(self.in_flight.acquire().await.expect("never closed"))
    }

    pub fn failed(&self, client: IpAddr, account: &str) {
        let now = Instant::now();
        let bump = |f: &mut Failures| {
            f.count = f.count.saturating_add(1);
            f.last = now;
        };
        let fresh = Failures {
            count: 0,
            last: now,
        };
        let mut addresses = self.lock_addresses();
        addresses.retain(|_, f| now - f.last < FORGET_AFTER);
        bump(addresses.entry(client).or_insert(fresh));
        drop(addresses);
        let mut accounts = self.lock_accounts();
        accounts.retain(|_, f| now - f.last < FORGET_AFTER);
        bump(accounts.entry(account.to_lowercase()).or_insert(fresh));
    }

    pub fn succeeded(&self, client: IpAddr, account: &str) {
        self.lock_addresses().remove(&client);
        self.lock_accounts().remove(&account.to_lowercase());
    }

    fn lock_addresses(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, Failures>> {
        self.addresses.lock().expect("not poisoned")
    }

    fn lock_accounts(&self) -> std::sync::MutexGuard<'_, HashMap<String, Failures>> {
        self.accounts.lock().expect("not poisoned")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_address_waits_after_its_failures_and_others_do_not() {
        let throttle = Throttle::default();
        let guesser: IpAddr = [10, 0, 0, 1].into();
        let owner: IpAddr = [10, 0, 0, 2].into();
        for _ in 0..PER_ADDRESS {
            drop(throttle.admit(guesser, "anna@example.org").await.unwrap());
            throttle.failed(guesser, "anna@example.org");
        }
        let wait = throttle
            .admit(guesser, "anna@example.org")
            .await
            .unwrap_err();
        assert!(wait <= FIRST_WAIT && wait > Duration::ZERO, "{wait:?}");
        assert!(
            throttle.admit(guesser, "bernd@example.org").await.is_err(),
            "the address waits"
        );
        assert!(
            throttle.admit(owner, "anna@example.org").await.is_ok(),
            "the account does not yet"
        );
        throttle.failed(guesser, "anna@example.org");
        let longer = throttle
            .admit(guesser, "anna@example.org")
            .await
            .unwrap_err();
        assert!(longer > FIRST_WAIT, "twice as long: {longer:?}");
        throttle.succeeded(owner, "anna@example.org");
        assert!(
            throttle.admit(guesser, "x@example.org").await.is_err(),
            "the guesser still waits"
        );
    }

    #[tokio::test]
    async fn an_account_waits_after_failures_from_many_addresses() {
        let throttle = Throttle::default();
        for i in 0..PER_ACCOUNT {
            throttle.failed([10, 0, 1, i as u8].into(), "Anna@Example.org");
        }
        assert!(throttle
            .admit([10, 9, 9, 9].into(), "anna@example.org")
            .await
            .is_err());
        assert!(throttle
            .admit([10, 9, 9, 9].into(), "bernd@example.org")
            .await
            .is_ok());
    }
}
