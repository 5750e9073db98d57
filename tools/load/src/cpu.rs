//! Where the machine's CPU goes during a soak: the platform's processes by name, from
//! `/proc/<pid>/stat` (user + system ticks), as a share of one core over each interval.
use std::collections::BTreeMap;

/// Process names (`comm`) grouped as the report shows them.
const GROUPS: &[(&str, &str)] = &[
    ("tansu", "broker"),
    ("tessera-mpi", "mpi"),
    ("tessera-access", "access"),
    ("tessera-referra", "referrals"),
    ("tessera-schedul", "scheduling"),
    ("tessera-pas", "pas"),
    ("tessera-clinica", "clinical-docs"),
    ("postgres", "postgres"),
    ("tessera-load", "load generator"),
    ("redis-server", "redis"),
];

/// Total CPU ticks per group now.
pub fn ticks() -> BTreeMap<&'static str, u64> {
    let mut out = BTreeMap::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    for entry in dir.flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid ... utime(14) stime(15)
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let comm = &stat[open + 1..close];
        let Some(group) = GROUPS
            .iter()
            .find(|(c, _)| comm.starts_with(c))
            .map(|g| g.1)
        else {
            continue;
        };
        let fields: Vec<&str> = stat[close + 2..].split(' ').collect();
        let t = |i: usize| {
            fields
                .get(i)
                .and_then(|f| f.parse::<u64>().ok())
                .unwrap_or(0)
        };
        // After the comm: state is field 3, so utime (14) and stime (15) are at 11 and 12.
        *out.entry(group).or_default() += t(11) + t(12);
    }
    out
}

/// Per group, the share of one core used between `before` and `after`, `seconds` apart (in
/// percent; 200 is both cores of this machine).
pub fn shares(
    before: &BTreeMap<&'static str, u64>,
    after: &BTreeMap<&'static str, u64>,
    seconds: f64,
) -> BTreeMap<String, f64> {
    const TICKS_PER_SECOND: f64 = 100.0;
    after
        .iter()
        .map(|(g, a)| {
            let b = before.get(g).copied().unwrap_or(0);
            let pct = a.saturating_sub(b) as f64 / TICKS_PER_SECOND / seconds.max(0.001) * 100.0;
            ((*g).to_string(), (pct * 10.0).round() / 10.0)
        })
        .collect()
}
