//! The audit store's hash chain (issue 4), per tenant: each stored record carries the hash of
//! the record before it, and its own hash over that and its content. `verify` walks a tenant's
//! records in sequence order and says exactly which one was edited, which sequence numbers are
//! missing, and which records are out of place. No I/O.
//!
//! What it cannot see on its own: someone who rewrites a record *and* recomputes every hash
//! after it. The store therefore also publishes the head hash at intervals to a place the
//! database's writers cannot change (see docs/adr/0014-audit-chain.md).
use sha2::{Digest, Sha256};

pub type Hash = [u8; 32];

/// The hash before the first record of a tenant.
pub const GENESIS: Hash = [0; 32];

/// A stored record as the chain sees it: its place, its content and its links.
#[derive(Clone, PartialEq, Eq)]
pub struct Link {
    /// 1, 2, 3… per tenant, in the order the store appended them.
    pub seq: i64,
    /// The event's `ce_id`: unique, so a replayed event cannot be appended twice.
    pub event_id: String,
    /// The record as received (Protobuf bytes): what is hashed.
    pub payload: Vec<u8>,
    pub prev_hash: Hash,
    pub hash: Hash,
}

impl std::fmt::Debug for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Link({})", self.seq)
    }
}

/// The hash of a record whose predecessor's hash is `prev`. The sequence number is not in it,
/// so a record moved to another place still checks on its own, and the broken link says it
/// moved.
pub fn hash(prev: &Hash, event_id: &str, payload: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update(prev);
    h.update((event_id.len() as u64).to_be_bytes());
    h.update(event_id.as_bytes());
    h.update((payload.len() as u64).to_be_bytes());
    h.update(payload);
    h.finalize().into()
}

/// Appends a record after `prev`: the link to store.
pub fn append(prev: Option<&Link>, event_id: &str, payload: Vec<u8>) -> Link {
    let (seq, prev_hash) = match prev {
        Some(p) => (p.seq + 1, p.hash),
        None => (1, GENESIS),
    };
    Link {
        seq,
        event_id: event_id.to_string(),
        hash: hash(&prev_hash, event_id, &payload),
        payload,
        prev_hash,
    }
}

/// One thing `verify` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// The record at `seq` is not what was stored: its content no longer gives its hash.
    Edited { seq: i64 },
    /// No record has these sequence numbers: removed.
    Missing { from: i64, to: i64 },
    /// The record at `seq` is intact but does not follow the record before it: moved.
    OutOfPlace { seq: i64 },
}

/// Checks a tenant's records, given in ascending `seq` order (as stored). Empty: intact.
///
/// - `Edited`: a record's content no longer gives its stored hash; or its hash was recomputed
///   after an edit, which the next record's link shows.
/// - `Missing`: sequence numbers with no record.
/// - `OutOfPlace`: an intact record whose place by the chain (following each record's link to
///   its predecessor from the start) is not the place it is stored at.
pub fn verify(links: &[Link]) -> Vec<Finding> {
    use std::collections::{HashMap, HashSet};
    let mut findings = Vec::new();
    let by_seq: HashMap<i64, usize> = links.iter().enumerate().map(|(i, l)| (l.seq, i)).collect();
    let hashes: HashSet<Hash> = links.iter().map(|l| l.hash).collect();
    // Each record's successor by the chain: the record whose link names its hash.
    let mut next_of: HashMap<Hash, usize> = HashMap::new();
    for (i, l) in links.iter().enumerate() {
        next_of.entry(l.prev_hash).or_insert(i);
    }
    let intact: Vec<bool> = links
        .iter()
        .map(|l| hash(&l.prev_hash, &l.event_id, &l.payload) == l.hash)
        .collect();
    let mut expected_seq = 1;
    for (l, intact) in links.iter().zip(&intact) {
        if l.seq > expected_seq {
            findings.push(Finding::Missing {
                from: expected_seq,
                to: l.seq - 1,
            });
        }
        expected_seq = expected_seq.max(l.seq + 1);
        if !intact {
            findings.push(Finding::Edited { seq: l.seq });
        } else if l.prev_hash != GENESIS && !hashes.contains(&l.prev_hash) {
            // Its predecessor's hash is gone. If a record stands just before it, that record
            // was rewritten (hash and all); if not, it was removed (reported as missing).
            if by_seq.contains_key(&(l.seq - 1)) {
                findings.push(Finding::Edited { seq: l.seq - 1 });
            }
        }
    }
    // Place by the chain: walk from each segment's start (the first record, or one whose
    // predecessor is gone), numbering as the chain goes.
    let mut place: HashMap<usize, i64> = HashMap::new();
    let mut starts: Vec<usize> = (0..links.len())
        .filter(|i| {
            let l = &links[*i];
            l.prev_hash == GENESIS || !hashes.contains(&l.prev_hash)
        })
        .collect();
    starts.sort_by_key(|i| links[*i].seq);
    for start in starts {
        let mut at = start;
        let mut n = if links[start].prev_hash == GENESIS {
            1
        } else {
            links[start].seq
        };
        while place.insert(at, n).is_none() {
            match next_of.get(&links[at].hash) {
                Some(next) => {
                    at = *next;
                    n += 1;
                }
                None => break,
            }
        }
    }
    for (i, l) in links.iter().enumerate() {
        if intact[i] && place.get(&i).is_some_and(|p| *p != l.seq) {
            findings.push(Finding::OutOfPlace { seq: l.seq });
        }
    }
    findings.sort_by_key(|f| match f {
        Finding::Edited { seq } | Finding::OutOfPlace { seq } => *seq,
        Finding::Missing { from, .. } => *from,
    });
    findings.dedup();
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: usize) -> Vec<Link> {
        let mut out: Vec<Link> = Vec::new();
        for i in 0..n {
            let l = append(
                out.last(),
                &format!("e{i}"),
                format!("record {i}").into_bytes(),
            );
            out.push(l);
        }
        out
    }

    #[test]
    fn an_intact_chain_verifies() {
        assert!(verify(&chain(50)).is_empty());
        assert!(verify(&[]).is_empty());
    }

    #[test]
    fn an_edited_record_is_named() {
        let mut c = chain(10);
        c[4].payload = b"record 4, changed".to_vec();
        assert_eq!(verify(&c), vec![Finding::Edited { seq: 5 }]);
    }

    #[test]
    fn a_deleted_record_is_named() {
        let mut c = chain(10);
        c.remove(6);
        assert_eq!(verify(&c), vec![Finding::Missing { from: 7, to: 7 }]);
        let mut c = chain(10);
        c.truncate(9);
        c.remove(0);
        assert_eq!(verify(&c), vec![Finding::Missing { from: 1, to: 1 }]);
    }

    #[test]
    fn two_records_swapped_are_named_and_their_neighbours_are_not() {
        // Each keeps its content and hash and takes the other's sequence number.
        let mut c = chain(10);
        let (a, b) = (c[3].seq, c[4].seq);
        c[3].seq = b;
        c[4].seq = a;
        c.sort_by_key(|l| l.seq);
        assert_eq!(
            verify(&c),
            vec![
                Finding::OutOfPlace { seq: 4 },
                Finding::OutOfPlace { seq: 5 }
            ]
        );
    }

    #[test]
    fn a_record_rewritten_with_its_hash_recomputed_is_named_by_its_successor() {
        let mut c = chain(10);
        c[2].payload = b"forged".to_vec();
        c[2].hash = hash(&c[2].prev_hash, &c[2].event_id, &c[2].payload);
        assert_eq!(verify(&c), vec![Finding::Edited { seq: 3 }]);
    }

    /// Every single tampering at every position is reported as exactly that.
    #[test]
    fn each_tampering_anywhere_is_reported_exactly() {
        let n = 20;
        for k in 0..n {
            let seq = k as i64 + 1;
            let mut c = chain(n);
            c[k].payload.push(b'!');
            assert_eq!(verify(&c), vec![Finding::Edited { seq }], "edit {seq}");
            let mut c = chain(n);
            c.remove(k);
            let want = if k == n - 1 {
                vec![] // the newest record removed: only the published head can show it
            } else {
                vec![Finding::Missing { from: seq, to: seq }]
            };
            assert_eq!(verify(&c), want, "delete {seq}");
            if k + 1 < n {
                let mut c = chain(n);
                c[k].seq += 1;
                c[k + 1].seq -= 1;
                c.sort_by_key(|l| l.seq);
                assert_eq!(
                    verify(&c),
                    vec![
                        Finding::OutOfPlace { seq },
                        Finding::OutOfPlace { seq: seq + 1 }
                    ],
                    "swap {seq}"
                );
            }
        }
    }
}
