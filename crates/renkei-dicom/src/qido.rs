//! QIDO-RS queries (PS3.18 8.3.4): query keys parsed from the URL, matched against results in
//! the DICOM JSON model (single value, wildcards, UID lists, date/time ranges), `includefield`.

use dicom_core::{Tag, VR};
use serde_json::Value;

use crate::json::{dictionary_vr, parse_tag, tag_key, texts};

/// Most results one query returns.
pub const MAX_LIMIT: usize = 1000;
/// Results per query unless `limit` says otherwise.
pub const DEFAULT_LIMIT: usize = 100;

/// A bad query: `code` is stable, `message` names the key, never a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError {
    pub code: &'static str,
    pub message: String,
}

/// One attribute to match.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    pub tag: Tag,
    pub vr: VR,
    /// The value from the URL; empty means "return this attribute" (universal match).
    pub value: String,
}

/// Which optional attributes to return.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Include {
    /// Only the required ones (and the query keys).
    #[default]
    Required,
    /// These too.
    Tags(Vec<Tag>),
    /// Every attribute available at the level.
    All,
}

/// A parsed QIDO-RS query.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Query {
    pub filters: Vec<Filter>,
    pub include: Include,
    pub limit: usize,
    pub offset: usize,
}

fn bad(code: &'static str, message: String) -> QueryError {
    QueryError { code, message }
}

impl Query {
    /// Parses the query string's pairs. Keys are keywords or tags (`0020000D`); an unknown key
    /// is an error (`invalid_query_key`); `fuzzymatching` is accepted and ignored.
    pub fn parse(pairs: &[(String, String)]) -> Result<Query, QueryError> {
        let mut query = Query {
            limit: DEFAULT_LIMIT,
            ..Query::default()
        };
        let mut include = Vec::new();
        for (key, value) in pairs {
            match key.as_str() {
                "limit" => {
                    query.limit = value
                        .parse::<usize>()
                        .ok()
                        .filter(|n| *n >= 1)
                        .ok_or_else(|| {
                            bad("invalid_query", "limit must be a positive number".into())
                        })?
                        .min(MAX_LIMIT)
                }
                "offset" => {
                    query.offset = value
                        .parse()
                        .map_err(|_| bad("invalid_query", "offset must be a number".into()))?
                }
                "fuzzymatching" => {}
                "includefield" => {
                    for field in value.split(',').map(str::trim).filter(|f| !f.is_empty()) {
                        if field == "all" {
                            query.include = Include::All;
                        } else {
                            include.push(parse_tag(field).ok_or_else(|| {
                                bad(
                                    "invalid_query_key",
                                    format!("includefield {field:?} is not a DICOM attribute"),
                                )
                            })?);
                        }
                    }
                }
                _ => {
                    let tag = parse_tag(key).ok_or_else(|| {
                        bad(
                            "invalid_query_key",
                            format!("{key:?} is not a DICOM attribute or a QIDO-RS parameter"),
                        )
                    })?;
                    let vr = dictionary_vr(tag);
                    if vr == VR::SQ {
                        return Err(bad(
                            "invalid_query_key",
                            format!("{key:?} cannot be matched (sequence)"),
                        ));
                    }
                    query.filters.push(Filter {
                        tag,
                        vr,
                        value: value.clone(),
                    });
                }
            }
        }
        if !include.is_empty() && query.include != Include::All {
            query.include = Include::Tags(include);
        }
        Ok(query)
    }

    /// Whether `object` (DICOM JSON) matches every filter.
    pub fn matches(&self, object: &Value) -> bool {
        self.filters.iter().all(|f| f.matches(object))
    }

    /// Whether `object` matches the filters on the attributes it has; the others are not
    /// judged (a first pass over indexed values before reading files).
    pub fn matches_present(&self, object: &Value) -> bool {
        self.filters
            .iter()
            .filter(|f| object.get(tag_key(f.tag)).is_some())
            .all(|f| f.matches(object))
    }

    /// The tags a result must carry beyond the level's required ones: query keys and
    /// `includefield` tags.
    pub fn extra_tags(&self) -> Vec<Tag> {
        let mut tags: Vec<Tag> = self.filters.iter().map(|f| f.tag).collect();
        if let Include::Tags(t) = &self.include {
            tags.extend(t);
        }
        tags
    }
}

impl Filter {
    /// PS3.4 C.2.2.2 matching of this key against the attribute in `object`. An attribute that
    /// is absent or empty matches only a universal key (empty, or a lone `*`).
    pub fn matches(&self, object: &Value) -> bool {
        if self.value.is_empty() || self.value == "*" {
            return true;
        }
        let values = texts(object, &tag_key(self.tag));
        match self.vr {
            VR::UI => {
                let wanted: Vec<&str> = self.value.split([',', '\\']).map(str::trim).collect();
                values.iter().any(|v| wanted.contains(&v.as_str()))
            }
            VR::DA | VR::TM | VR::DT => values.iter().any(|v| in_range(&self.value, v, self.vr)),
            VR::PN => values
                .iter()
                .any(|v| wildcard(&self.value.to_lowercase(), &v.to_lowercase())),
            _ => {
                let wanted: Vec<&str> = if self.vr == VR::CS {
                    self.value.split([',', '\\']).map(str::trim).collect()
                } else {
                    vec![self.value.as_str()]
                };
                values
                    .iter()
                    .any(|v| wanted.iter().any(|w| wildcard(w, v.trim())))
            }
        }
    }
}

/// A date/time key (`20240101`, `20240101-20240131`, `-20240131`, `20240101-`) against a
/// stored value; bounds compare at their own precision (`1300` covers 13:00 to 13:00:59).
fn in_range(key: &str, value: &str, vr: VR) -> bool {
    let norm = |s: &str| -> String {
        s.trim()
            .chars()
            .filter(|c| !(vr == VR::TM && *c == ':'))
            .collect()
    };
    let value = norm(value);
    let cmp = |bound: &str| -> std::cmp::Ordering {
        let bound = norm(bound);
        let head: String = value.chars().take(bound.chars().count()).collect();
        head.cmp(&bound)
    };
    match key.split_once('-') {
        Some((from, to)) => {
            (from.is_empty() || cmp(from).is_ge()) && (to.is_empty() || cmp(to).is_le())
        }
        None => cmp(key).is_eq(),
    }
}

/// `*` (any run) and `?` (one character) matching.
fn wildcard(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn q(pairs: &[(&str, &str)]) -> Result<Query, QueryError> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Query::parse(&pairs)
    }

    #[test]
    fn keys_match_by_their_vr_rules() {
        let study = json!({
            "0020000D": {"vr": "UI", "Value": ["1.2.3"]},
            "00080020": {"vr": "DA", "Value": ["20240115"]},
            "00080030": {"vr": "TM", "Value": ["130512.000"]},
            "00080061": {"vr": "CS", "Value": ["CT", "SR"]},
            "00081030": {"vr": "LO", "Value": ["CHEST CT w/o contrast"]},
            "00100010": {"vr": "PN", "Value": [{"Alphabetic": "ANONYMOUS"}]},
            "00080050": {"vr": "SH"},
        });
        let hit = |pairs: &[(&str, &str)]| q(pairs).unwrap().matches(&study);
        assert!(hit(&[("StudyInstanceUID", "9.9,1.2.3")]));
        assert!(!hit(&[("0020000D", "1.2.33")]));
        assert!(hit(&[("StudyDate", "20240101-20240131")]));
        assert!(hit(&[("StudyDate", "20240101-")]));
        assert!(hit(&[("StudyDate", "-20240115")]));
        assert!(!hit(&[("StudyDate", "20240116-")]));
        assert!(hit(&[("StudyTime", "1300-1310")]));
        assert!(!hit(&[("StudyTime", "1400-")]));
        assert!(hit(&[("ModalitiesInStudy", "CT")]));
        assert!(hit(&[("ModalitiesInStudy", "MR,SR")]));
        assert!(!hit(&[("ModalitiesInStudy", "MR")]));
        assert!(hit(&[
            ("StudyDescription", "CHEST*"),
            ("fuzzymatching", "true")
        ]));
        assert!(hit(&[("StudyDescription", "*w/o?contrast")]));
        assert!(!hit(&[("StudyDescription", "chest*")]));
        assert!(hit(&[("PatientName", "anon*")]));
        assert!(
            !hit(&[("AccessionNumber", "A123")]),
            "an empty attribute matches only universally"
        );
        assert!(hit(&[("AccessionNumber", "")]));
        assert!(hit(&[("AccessionNumber", "*")]), "a lone * is universal");
    }

    #[test]
    fn parameters_are_checked() {
        let query = q(&[
            ("limit", "5000"),
            ("offset", "2"),
            ("includefield", "00081030,PatientSex"),
        ])
        .unwrap();
        assert_eq!((query.limit, query.offset), (MAX_LIMIT, 2));
        assert_eq!(
            query.include,
            Include::Tags(vec![Tag(0x0008, 0x1030), Tag(0x0010, 0x0040)])
        );
        assert_eq!(q(&[("includefield", "all")]).unwrap().include, Include::All);
        assert_eq!(q(&[("Bogus", "x")]).unwrap_err().code, "invalid_query_key");
        assert_eq!(q(&[("limit", "0")]).unwrap_err().code, "invalid_query");
        assert_eq!(q(&[("limit", "many")]).unwrap_err().code, "invalid_query");
    }

    #[test]
    fn wildcards() {
        assert!(wildcard("a*c", "abbbc"));
        assert!(wildcard("a?c", "abc"));
        assert!(!wildcard("a?c", "abbc"));
        assert!(wildcard("*", ""));
        assert!(!wildcard("abc", "abcd"));
    }
}
