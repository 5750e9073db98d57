//! The names people are drawn from, and the places they live.
use super::family::FAMILY;
use super::given::{FEMALE, MALE};
use rand::rngs::StdRng;
use rand::Rng;

pub(super) struct Vocabulary {
    names: Vec<String>,
    cumulative: Vec<f64>,
}

pub(super) const ONSETS: &[&str] = &[
    "b", "br", "c", "ch", "cl", "d", "dr", "f", "fr", "g", "gr", "h", "j", "k", "l", "m", "n", "p",
    "pr", "r", "s", "sh", "st", "t", "th", "tr", "v", "w", "wh", "y", "z",
];
pub(super) const NUCLEI: &[&str] = &[
    "a", "e", "i", "o", "u", "ai", "ea", "ee", "oo", "ou", "y", "ie",
];
pub(super) const CODAS: &[&str] = &[
    "", "n", "r", "l", "s", "th", "nd", "rd", "ck", "ll", "m", "ng", "rt", "ss", "ton", "ley",
    "by", "son", "man", "well", "ford", "wood", "field", "ham", "more", "wick", "bury",
];

impl Vocabulary {
    pub(super) fn new(
        real: &[&str],
        size: usize,
        exponent: f64,
        offset: f64,
        syllables: usize,
    ) -> Self {
        let mut seen = std::collections::HashSet::new();
        let mut names: Vec<String> = Vec::with_capacity(size);
        for n in real {
            if seen.insert(n.to_string()) {
                names.push(n.to_string());
            }
        }
        let mut i: usize = 0;
        while names.len() < size && i < 50_000_000 {
            // A deterministic walk through syllable combinations.
            let mut k = i.wrapping_mul(2_654_435_761) % 1_000_000_007;
            let mut name = String::new();
            for _ in 0..syllables {
                name.push_str(ONSETS[k % ONSETS.len()]);
                k /= ONSETS.len();
                name.push_str(NUCLEI[k % NUCLEI.len()]);
                k /= NUCLEI.len();
                name.push_str(CODAS[k % CODAS.len()]);
                k /= CODAS.len();
            }
            let mut c = name.chars();
            let name = match c.next() {
                Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
                None => name,
            };
            if name.len() >= 3 && seen.insert(name.clone()) {
                names.push(name);
            }
            i += 1;
        }
        let mut total = 0.0;
        let cumulative = (0..names.len())
            .map(|r| {
                total += 1.0 / (r as f64 + offset).powf(exponent);
                total
            })
            .collect();
        Self { names, cumulative }
    }

    pub(super) fn uniform(real: &[&str]) -> Self {
        Self::new(real, real.len(), 0.0, 1.0, 0)
    }

    pub(super) fn draw(&self, rng: &mut StdRng) -> String {
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        let x = rng.gen_range(0.0..total.max(f64::MIN_POSITIVE));
        let i = self.cumulative.partition_point(|c| *c <= x);
        self.names
            .get(i.min(self.names.len().saturating_sub(1)))
            .cloned()
            .unwrap_or_else(|| "Sam".into())
    }
}

pub(super) struct Names {
    female: Vocabulary,
    male: Vocabulary,
    pub(super) family: Vocabulary,
}

impl Names {
    pub(super) fn new(kind: &str) -> Result<Self, String> {
        match kind {
            "small" => Ok(Self {
                female: Vocabulary::uniform(FEMALE),
                male: Vocabulary::uniform(MALE),
                family: Vocabulary::uniform(FAMILY),
            }),
            // Shaped on England and Wales: the commonest family name ~0.7% of people, the
            // commonest given name ~2% of its sex, long tails of rare names.
            "realistic" => Ok(Self {
                female: Vocabulary::new(FEMALE, 4_000, 1.1, 3.0, 2),
                male: Vocabulary::new(MALE, 4_000, 1.1, 3.0, 2),
                family: Vocabulary::new(FAMILY, 60_000, 0.9, 10.0, 2),
            }),
            other => Err(format!("--names {other}: use realistic or small")),
        }
    }

    pub(super) fn given(&self, female: bool, rng: &mut StdRng) -> String {
        if female {
            self.female.draw(rng)
        } else {
            self.male.draw(rng)
        }
    }
}

pub(super) const STREETS: &[&str] = &[
    "High",
    "Station",
    "Church",
    "Main",
    "Park",
    "Victoria",
    "Green",
    "Manor",
    "Kings",
    "Queens",
    "Mill",
    "School",
    "New",
    "Grange",
    "Albert",
    "North",
    "South",
    "West",
    "Chapel",
    "London",
    "Springfield",
    "Windsor",
    "Highfield",
    "Alexandra",
    "York",
    "Orchard",
    "Meadow",
    "Forest",
    "Beech",
    "Oak",
    "Elm",
    "Cedar",
    "Willow",
    "Ash",
    "Hawthorn",
    "Rose",
    "Stanley",
    "Richmond",
    "Cromwell",
    "Nelson",
];
pub(super) const TYPES: &[&str] = &[
    "Street", "Road", "Lane", "Avenue", "Close", "Drive", "Way", "Crescent", "Gardens", "Terrace",
];
pub(super) const TOWNS: &[(&str, &str)] = &[
    ("Leeds", "LS"),
    ("Manchester", "M"),
    ("Blackburn", "BB"),
    ("Crewe", "CW"),
    ("Liverpool", "L"),
    ("Bradford", "BD"),
    ("Sheffield", "S"),
    ("York", "YO"),
    ("Preston", "PR"),
    ("Bolton", "BL"),
    ("Chester", "CH"),
    ("Wigan", "WN"),
    ("Hull", "HU"),
    ("Lancaster", "LA"),
    ("Huddersfield", "HD"),
    ("Halifax", "HX"),
    ("Wakefield", "WF"),
    ("Harrogate", "HG"),
    ("Oldham", "OL"),
    ("Stockport", "SK"),
    ("Warrington", "WA"),
    ("Burnley", "BB"),
    ("Doncaster", "DN"),
    ("Newcastle", "NE"),
    ("Durham", "DH"),
    ("Sunderland", "SR"),
    ("Carlisle", "CA"),
    ("Stoke", "ST"),
    ("Derby", "DE"),
    ("Nottingham", "NG"),
];
