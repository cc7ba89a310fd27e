//! PS3.15 Table E.1-1, kept as a data file in the repository and parsed once.

use std::collections::HashMap;
use std::sync::OnceLock;

use dicom_core::Tag;

use crate::error::DeidError;

/// The table text as shipped in `data/`: one row per attribute, tab-separated.
pub const TABLE_TSV: &str = include_str!("../data/ps3.15-table-e.1-1.tsv");

/// One action code of PS3.15 E.3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Replace with a non-zero length dummy value consistent with the VR.
    Dummy,
    /// Replace with a zero-length value (or a dummy where the IOD needs one).
    Zero,
    /// Remove.
    Remove,
    /// Keep.
    Keep,
    /// Clean: keep, with identifying content removed or (for dates) modified.
    Clean,
    /// Replace the UID with one that is consistent within the set of instances.
    Uid,
}

/// The basic-profile cell of a row; combinations depend on the attribute's type in its IOD.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BasicAction {
    /// A single action.
    One(Action),
    /// `X/Z`: remove, or empty where the IOD makes it Type 2.
    RemoveOrZero,
    /// `X/D`: remove, or dummy where Type 1.
    RemoveOrDummy,
    /// `Z/D`: empty, or dummy where Type 1.
    ZeroOrDummy,
    /// `X/Z/D`: remove, empty where Type 2, dummy where Type 1.
    RemoveOrZeroOrDummy,
    /// `X/Z/U*`: remove, empty, or keep the sequence with every UID inside replaced.
    RemoveOrZeroOrUidsInside,
}

impl BasicAction {
    fn parse(cell: &str) -> Option<Self> {
        Some(match cell {
            "X/Z" => BasicAction::RemoveOrZero,
            "X/D" => BasicAction::RemoveOrDummy,
            "Z/D" => BasicAction::ZeroOrDummy,
            "X/Z/D" => BasicAction::RemoveOrZeroOrDummy,
            "X/Z/U*" => BasicAction::RemoveOrZeroOrUidsInside,
            single => BasicAction::One(parse_action(single)?),
        })
    }

    /// The code as the standard writes it.
    pub fn code(self) -> &'static str {
        match self {
            BasicAction::One(a) => action_code(a),
            BasicAction::RemoveOrZero => "X/Z",
            BasicAction::RemoveOrDummy => "X/D",
            BasicAction::ZeroOrDummy => "Z/D",
            BasicAction::RemoveOrZeroOrDummy => "X/Z/D",
            BasicAction::RemoveOrZeroOrUidsInside => "X/Z/U*",
        }
    }
}

fn parse_action(cell: &str) -> Option<Action> {
    Some(match cell {
        "D" => Action::Dummy,
        "Z" => Action::Zero,
        "X" => Action::Remove,
        "K" => Action::Keep,
        "C" => Action::Clean,
        "U" => Action::Uid,
        _ => return None,
    })
}

fn action_code(action: Action) -> &'static str {
    match action {
        Action::Dummy => "D",
        Action::Zero => "Z",
        Action::Remove => "X",
        Action::Keep => "K",
        Action::Clean => "C",
        Action::Uid => "U",
    }
}

/// The option columns of Table E.1-1, in the order of the data file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProfileOption {
    RetainSafePrivate,
    RetainUids,
    RetainDeviceIdentity,
    RetainInstitutionIdentity,
    RetainPatientCharacteristics,
    RetainLongitudinalFullDates,
    RetainLongitudinalModifiedDates,
    CleanDescriptors,
    CleanStructuredContent,
    CleanGraphics,
}

const OPTION_COLUMNS: [(&str, ProfileOption); 10] = [
    ("retain_safe_private", ProfileOption::RetainSafePrivate),
    ("retain_uids", ProfileOption::RetainUids),
    (
        "retain_device_identity",
        ProfileOption::RetainDeviceIdentity,
    ),
    (
        "retain_institution_identity",
        ProfileOption::RetainInstitutionIdentity,
    ),
    (
        "retain_patient_characteristics",
        ProfileOption::RetainPatientCharacteristics,
    ),
    (
        "retain_long_full_dates",
        ProfileOption::RetainLongitudinalFullDates,
    ),
    (
        "retain_long_modified_dates",
        ProfileOption::RetainLongitudinalModifiedDates,
    ),
    ("clean_descriptors", ProfileOption::CleanDescriptors),
    (
        "clean_structured_content",
        ProfileOption::CleanStructuredContent,
    ),
    ("clean_graphics", ProfileOption::CleanGraphics),
];

/// Which tags a row covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TagPattern {
    /// One tag.
    Exact(Tag),
    /// A repeating group such as `(50xx,xxxx)`: `(tag & mask) == value`, groups even.
    Masked { value: u32, mask: u32 },
    /// `(gggg,eeee)` where gggg is odd: every private attribute.
    Private,
}

impl TagPattern {
    fn parse(cell: &str) -> Option<Self> {
        if cell == "(gggg,eeee)" {
            return Some(TagPattern::Private);
        }
        let inner = cell.strip_prefix('(')?.strip_suffix(')')?;
        let (group, element) = inner.split_once(',')?;
        if group.len() != 4 || element.len() != 4 {
            return None;
        }
        let mut value = 0u32;
        let mut mask = 0u32;
        for c in group.chars().chain(element.chars()) {
            value <<= 4;
            mask <<= 4;
            if c == 'x' {
                continue;
            }
            value |= c.to_digit(16)?;
            mask |= 0xF;
        }
        if mask == u32::MAX {
            Some(TagPattern::Exact(Tag((value >> 16) as u16, value as u16)))
        } else {
            Some(TagPattern::Masked { value, mask })
        }
    }

    /// Whether `tag` is covered by this pattern.
    pub fn matches(&self, tag: Tag) -> bool {
        match *self {
            TagPattern::Exact(t) => t == tag,
            TagPattern::Masked { value, mask } => {
                let raw = (u32::from(tag.group()) << 16) | u32::from(tag.element());
                tag.group().is_multiple_of(2) && raw & mask == value
            }
            TagPattern::Private => tag.group() % 2 == 1,
        }
    }
}

/// One row of Table E.1-1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileRow {
    pub pattern: TagPattern,
    pub name: String,
    pub basic: BasicAction,
    options: [Option<Action>; 10],
}

impl ProfileRow {
    /// The action an option column gives, when it changes the basic action.
    pub fn option(&self, option: ProfileOption) -> Option<Action> {
        OPTION_COLUMNS
            .iter()
            .position(|(_, o)| *o == option)
            .and_then(|i| self.options[i])
    }
}

/// The parsed table.
#[derive(Debug)]
pub struct ConfidentialityProfile {
    /// The edition named in the file header, e.g. `DICOM PS3.15 2024b`.
    pub edition: String,
    rows: Vec<ProfileRow>,
    exact: HashMap<Tag, usize>,
    masked: Vec<usize>,
}

impl ConfidentialityProfile {
    /// Parse the table text. Errors name the line, for the build defect it would be.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut lines = text.lines().enumerate();
        let edition = lines
            .next()
            .and_then(|(_, l)| l.strip_prefix("# "))
            .and_then(|l| l.split_once(", Table E.1-1"))
            .map(|(edition, _)| edition.to_string())
            .filter(|e| e.starts_with("DICOM PS3.15 "))
            .ok_or(
                "first line must name the edition: '# DICOM PS3.15 <edition>, Table E.1-1 ...'",
            )?;
        let mut header_seen = false;
        let mut rows = Vec::new();
        let mut exact = HashMap::new();
        let mut masked = Vec::new();
        let mut private_seen = false;
        for (index, line) in lines {
            let line_no = index + 1;
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let cells: Vec<&str> = line.split('\t').collect();
            if !header_seen {
                let expected: Vec<&str> = ["tag", "name", "basic_profile"]
                    .into_iter()
                    .chain(OPTION_COLUMNS.iter().map(|(c, _)| *c))
                    .collect();
                if cells != expected {
                    return Err(format!("line {line_no}: unexpected column header"));
                }
                header_seen = true;
                continue;
            }
            if cells.len() != 3 + OPTION_COLUMNS.len() {
                return Err(format!(
                    "line {line_no}: expected {} cells",
                    3 + OPTION_COLUMNS.len()
                ));
            }
            let pattern = TagPattern::parse(cells[0])
                .ok_or_else(|| format!("line {line_no}: bad tag {:?}", cells[0]))?;
            let basic = BasicAction::parse(cells[2])
                .ok_or_else(|| format!("line {line_no}: bad action {:?}", cells[2]))?;
            let mut options = [None; 10];
            for (slot, cell) in options.iter_mut().zip(&cells[3..]) {
                if !cell.is_empty() {
                    *slot = Some(
                        parse_action(cell)
                            .ok_or_else(|| format!("line {line_no}: bad option {cell:?}"))?,
                    );
                }
            }
            let row_index = rows.len();
            match pattern {
                TagPattern::Exact(tag) => {
                    if exact.insert(tag, row_index).is_some() {
                        return Err(format!("line {line_no}: duplicate tag {}", cells[0]));
                    }
                }
                TagPattern::Masked { .. } => {
                    if masked
                        .iter()
                        .any(|&i: &usize| rows_pattern(&rows, i) == pattern)
                    {
                        return Err(format!("line {line_no}: duplicate tag {}", cells[0]));
                    }
                    masked.push(row_index);
                }
                TagPattern::Private => {
                    if private_seen {
                        return Err(format!("line {line_no}: duplicate private row"));
                    }
                    private_seen = true;
                }
            }
            rows.push(ProfileRow {
                pattern,
                name: cells[1].to_string(),
                basic,
                options,
            });
        }
        if !header_seen || rows.is_empty() {
            return Err("table has no rows".into());
        }
        Ok(ConfidentialityProfile {
            edition,
            rows,
            exact,
            masked,
        })
    }

    /// The row that covers a standard (even-group) tag, if any. Private tags are handled apart.
    pub fn lookup(&self, tag: Tag) -> Option<&ProfileRow> {
        if let Some(&i) = self.exact.get(&tag) {
            return self.rows.get(i);
        }
        self.masked
            .iter()
            .filter_map(|&i| self.rows.get(i))
            .find(|row| row.pattern.matches(tag))
    }

    /// Every row, in file order.
    pub fn rows(&self) -> &[ProfileRow] {
        &self.rows
    }
}

fn rows_pattern(rows: &[ProfileRow], i: usize) -> TagPattern {
    rows.get(i).map_or(TagPattern::Private, |r| r.pattern)
}

/// The bundled table, parsed on first use.
pub fn profile() -> Result<&'static ConfidentialityProfile, DeidError> {
    static PROFILE: OnceLock<Result<ConfidentialityProfile, String>> = OnceLock::new();
    PROFILE
        .get_or_init(|| ConfidentialityProfile::parse(TABLE_TSV))
        .as_ref()
        .map_err(|e| DeidError::ProfileTable(e.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundled() -> &'static ConfidentialityProfile {
        match profile() {
            Ok(p) => p,
            Err(e) => panic!("bundled table must parse: {e}"),
        }
    }

    fn basic(tag: Tag) -> &'static str {
        bundled().lookup(tag).map_or("none", |r| r.basic.code())
    }

    #[test]
    fn bundled_table_parses_with_edition_and_all_rows() {
        let p = bundled();
        assert_eq!(p.edition, "DICOM PS3.15 2024b");
        // 2024b has 621 rows including the private-attributes row.
        assert_eq!(p.rows().len(), 621);
        assert!(p.rows().iter().any(|r| r.pattern == TagPattern::Private));
    }

    #[test]
    fn well_known_rows_have_the_standard_action() {
        let cases = [
            (Tag(0x0010, 0x0010), "Z"),      // Patient's Name
            (Tag(0x0010, 0x0020), "Z/D"),    // Patient ID (Z before 2024b)
            (Tag(0x0008, 0x0050), "Z"),      // Accession Number
            (Tag(0x0020, 0x000D), "U"),      // Study Instance UID
            (Tag(0x0008, 0x0018), "U"),      // SOP Instance UID
            (Tag(0x0008, 0x0080), "X/Z/D"),  // Institution Name
            (Tag(0x0010, 0x0030), "Z"),      // Patient's Birth Date
            (Tag(0x0008, 0x0090), "Z"),      // Referring Physician's Name
            (Tag(0x0008, 0x1050), "X"),      // Performing Physician's Name
            (Tag(0x0040, 0x0275), "X"),      // Request Attributes Sequence
            (Tag(0x0008, 0x1140), "X/Z/U*"), // Referenced Image Sequence
            (Tag(0x0010, 0x1000), "X"),      // Other Patient IDs
            (Tag(0x0018, 0x1000), "X/Z/D"),  // Device Serial Number
            (Tag(0x0010, 0x2160), "X"),      // Ethnic Group
        ];
        for (tag, code) in cases {
            assert_eq!(basic(tag), code, "{tag}");
        }
    }

    #[test]
    fn sop_class_and_transfer_syntax_are_not_in_the_table() {
        assert_eq!(basic(Tag(0x0008, 0x0016)), "none");
        assert_eq!(basic(Tag(0x0002, 0x0010)), "none");
        assert_eq!(basic(Tag(0x0008, 0x1150)), "none");
    }

    #[test]
    fn repeating_groups_match_every_even_group_of_their_range() {
        assert_eq!(basic(Tag(0x5000, 0x3000)), "X");
        assert_eq!(basic(Tag(0x501E, 0x0010)), "X");
        assert_eq!(basic(Tag(0x6000, 0x3000)), "X");
        assert_eq!(basic(Tag(0x601E, 0x4000)), "X");
        // Overlay rows/columns are not in the table.
        assert_eq!(basic(Tag(0x6000, 0x0010)), "none");
    }

    #[test]
    fn option_columns_are_read() {
        let p = bundled();
        let sex = p
            .lookup(Tag(0x0010, 0x0040))
            .map(|r| r.option(ProfileOption::RetainPatientCharacteristics));
        assert_eq!(sex, Some(Some(Action::Keep)));
        let study_date = p.lookup(Tag(0x0008, 0x0020));
        assert_eq!(
            study_date.and_then(|r| r.option(ProfileOption::RetainLongitudinalModifiedDates)),
            Some(Action::Clean)
        );
        let series_description = p.lookup(Tag(0x0008, 0x103E));
        assert_eq!(
            series_description.and_then(|r| r.option(ProfileOption::CleanDescriptors)),
            Some(Action::Clean)
        );
    }

    #[test]
    fn malformed_tables_are_refused() {
        let header = "# DICOM PS3.15 2024b, Table E.1-1 test\ntag\tname\tbasic_profile\tretain_safe_private\tretain_uids\tretain_device_identity\tretain_institution_identity\tretain_patient_characteristics\tretain_long_full_dates\tretain_long_modified_dates\tclean_descriptors\tclean_structured_content\tclean_graphics\n";
        let row = "(0010,0010)\tPatient's Name\tZ\t\t\t\t\t\t\t\t\t\t\n";
        assert!(ConfidentialityProfile::parse(&format!("{header}{row}")).is_ok());
        assert!(ConfidentialityProfile::parse(&format!("{header}{row}{row}")).is_err());
        assert!(
            ConfidentialityProfile::parse(&format!("{header}{}", row.replace("\tZ\t", "\tQ\t")))
                .is_err()
        );
        assert!(
            ConfidentialityProfile::parse(&format!(
                "{header}{}",
                row.replace("0010,0010", "0010,001")
            ))
            .is_err()
        );
        assert!(ConfidentialityProfile::parse(row).is_err());
    }
}
