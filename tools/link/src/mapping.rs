//! The TOML file that maps a CSV's columns to the matcher's fields. Every field is optional;
//! nothing assumes UK names, postcodes or identifiers.
use serde::Deserialize;
use tessera_matching::{BirthDate, Person, PersonInput, Thresholds};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    pub columns: Columns,
    #[serde(default)]
    pub model: ModelSettings,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Columns {
    /// The record id column (required: pairs name records by it).
    pub id: String,
    pub given: Option<String>,
    pub family: Option<String>,
    pub birth_date: Option<String>,
    /// chrono format of `birth_date`, e.g. "%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y".
    #[serde(default = "default_date_format")]
    pub birth_date_format: String,
    pub sex: Option<String>,
    /// Address columns, joined in order (lines, town…).
    #[serde(default)]
    pub address: Vec<String>,
    pub postcode: Option<String>,
    /// Any national identifier (NHS number, CHI, SSN…).
    pub national_id: Option<String>,
}

fn default_date_format() -> String {
    "%Y-%m-%d".into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelSettings {
    pub link_threshold: f64,
    pub review_threshold: f64,
    /// Learn weights from the files (true) or use the defaults (false).
    pub train: bool,
    pub em_iterations: usize,
    /// Weigh an exact name agreement by how common the name is in the files (true), or the
    /// same for every name (false).
    pub term_frequencies: bool,
}

impl Default for ModelSettings {
    fn default() -> Self {
        let t = Thresholds::default();
        Self {
            link_threshold: t.link,
            review_threshold: t.review,
            train: true,
            em_iterations: 25,
            term_frequencies: true,
        }
    }
}

impl Mapping {
    pub fn load(path: &str) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
        toml::from_str(&text).map_err(|e| format!("{path}: {e}"))
    }
}

/// Column positions of one file.
pub struct Layout {
    id: usize,
    given: Option<usize>,
    family: Option<usize>,
    birth_date: Option<usize>,
    sex: Option<usize>,
    address: Vec<usize>,
    postcode: Option<usize>,
    national_id: Option<usize>,
    date_format: String,
}

impl Layout {
    pub fn new(c: &Columns, headers: &csv::StringRecord, file: &str) -> Result<Self, String> {
        let find = |name: &str| -> Result<usize, String> {
            headers
                .iter()
                .position(|h| h.trim() == name)
                .ok_or_else(|| format!("{file}: no column {name:?}"))
        };
        let opt = |name: &Option<String>| name.as_deref().map(find).transpose();
        Ok(Self {
            id: find(&c.id)?,
            given: opt(&c.given)?,
            family: opt(&c.family)?,
            birth_date: opt(&c.birth_date)?,
            sex: opt(&c.sex)?,
            address: c
                .address
                .iter()
                .map(|a| find(a))
                .collect::<Result<_, _>>()?,
            postcode: opt(&c.postcode)?,
            national_id: opt(&c.national_id)?,
            date_format: c.birth_date_format.clone(),
        })
    }

    /// The record's id and the person to match. A bad date is treated as missing.
    pub fn person(&self, r: &csv::StringRecord) -> (String, Person) {
        let get = |i: Option<usize>| {
            i.and_then(|i| r.get(i))
                .map(str::trim)
                .filter(|s| !s.is_empty())
        };
        let address: Vec<&str> = self
            .address
            .iter()
            .filter_map(|i| r.get(*i))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        let address = address.join(" ");
        let person = Person::new(PersonInput {
            given: get(self.given),
            family: get(self.family),
            birth_date: get(self.birth_date).and_then(|d| BirthDate::parse(d, &self.date_format)),
            sex: get(self.sex),
            address: Some(address.as_str()).filter(|a| !a.is_empty()),
            postcode: get(self.postcode),
            national_id: get(self.national_id),
        });
        (r.get(self.id).unwrap_or_default().to_string(), person)
    }
}

/// Reads a whole CSV file into ids and people.
pub fn read(path: &str, columns: &Columns) -> Result<(Vec<String>, Vec<Person>), String> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .map_err(|e| format!("{path}: {e}"))?;
    let headers = reader
        .headers()
        .map_err(|e| format!("{path}: {e}"))?
        .clone();
    let layout = Layout::new(columns, &headers, path)?;
    let mut ids = Vec::new();
    let mut people = Vec::new();
    let mut record = csv::StringRecord::new();
    while reader
        .read_record(&mut record)
        .map_err(|e| format!("{path}: {e}"))?
    {
        let (id, p) = layout.person(&record);
        ids.push(id);
        people.push(p);
    }
    Ok((ids, people))
}
