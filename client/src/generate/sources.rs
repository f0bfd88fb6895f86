//! Source systems and their conventions. Each source (CRM, shop tills,
//! web sign-ups, call centre, loyalty, support) captures different fields
//! and writes them its own way — name layout, date order, phone format,
//! street abbreviations, letter case — and this module turns a
//! [`Person`] into one record as a given source would hold it, with the
//! per-record noise of [`NoiseProfile`] applied on top.

use std::borrow::Cow;
use std::fmt::Write as _;

use rand::Rng;

use super::ids::{mix64, Permutation};
use super::names;
use super::noise::{self, NoiseProfile};
use super::output::{col, Row};
use super::person::{chance, pick, Address, Date, Gender, Person, PhoneStyle, Weighted};
use super::places::{self, Country};

/// The kinds of source system the generator knows the habits of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Crm,
    Pos,
    Web,
    CallCentre,
    Loyalty,
    Support,
    /// Any other name: CRM-like.
    Other,
}

impl Kind {
    /// The kind for a source name.
    pub fn from_name(name: &str) -> Kind {
        match name.to_ascii_lowercase().as_str() {
            "crm" => Kind::Crm,
            "pos" | "till" | "shop" => Kind::Pos,
            "web" | "online" | "ecommerce" => Kind::Web,
            "callcentre" | "callcenter" | "call_centre" | "call-centre" | "contact" => {
                Kind::CallCentre
            }
            "loyalty" => Kind::Loyalty,
            "support" | "helpdesk" => Kind::Support,
            _ => Kind::Other,
        }
    }

    /// Share of records coming from this kind of source.
    fn weight(self) -> f64 {
        match self {
            Kind::Crm => 0.30,
            Kind::Pos => 0.25,
            Kind::Web => 0.20,
            Kind::CallCentre => 0.10,
            // Only members have loyalty records.
            Kind::Loyalty => 0.30,
            Kind::Support => 0.10,
            Kind::Other => 0.15,
        }
    }

    /// Which fields the source captures, and how often.
    fn capture(self) -> Capture {
        let c = |dob,
                 gender,
                 email,
                 phone,
                 address,
                 postcode_only,
                 national_id,
                 loyalty_id,
                 since,
                 purchase| Capture {
            dob,
            gender,
            email,
            phone,
            address,
            postcode_only,
            national_id,
            loyalty_id,
            since,
            purchase,
        };
        match self {
            Kind::Crm => c(0.92, 0.85, 0.8, 0.85, 0.9, 0.0, 0.7, 0.35, 0.9, 0.7),
            Kind::Pos => c(0.1, 0.0, 0.05, 0.9, 0.04, 0.35, 0.0, 0.6, 0.7, 1.0),
            Kind::Web => c(0.55, 0.6, 1.0, 0.45, 0.6, 0.0, 0.1, 0.2, 0.8, 0.6),
            Kind::CallCentre => c(0.75, 0.6, 0.35, 0.98, 0.5, 0.0, 0.45, 0.2, 0.5, 0.2),
            Kind::Loyalty => c(0.97, 0.8, 0.95, 0.6, 0.6, 0.3, 0.0, 1.0, 1.0, 0.9),
            Kind::Support => c(0.0, 0.0, 1.0, 0.5, 0.0, 0.0, 0.0, 0.1, 0.3, 0.1),
            Kind::Other => c(0.8, 0.7, 0.7, 0.8, 0.8, 0.0, 0.5, 0.3, 0.8, 0.6),
        }
    }
}

/// Probabilities that a source captures each field.
#[derive(Debug, Clone, Copy)]
struct Capture {
    dob: f64,
    gender: f64,
    email: f64,
    phone: f64,
    address: f64,
    /// When no full address: probability of a postcode alone.
    postcode_only: f64,
    national_id: f64,
    loyalty_id: f64,
    since: f64,
    purchase: f64,
}

/// How a source writes dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateStyle {
    /// 1985-07-14
    Iso,
    /// 14/07/1985
    DayFirst,
    /// 07/14/1985
    MonthFirst,
    /// 19850714
    Compact,
    /// 1985
    YearOnly,
}

/// Writes a date in a style.
pub fn format_date(d: Date, style: DateStyle, out: &mut String) {
    let _ = match style {
        DateStyle::Iso => write!(out, "{:04}-{:02}-{:02}", d.year, d.month, d.day),
        DateStyle::DayFirst => write!(out, "{:02}/{:02}/{:04}", d.day, d.month, d.year),
        DateStyle::MonthFirst => write!(out, "{:02}/{:02}/{:04}", d.month, d.day, d.year),
        DateStyle::Compact => write!(out, "{:04}{:02}{:02}", d.year, d.month, d.day),
        DateStyle::YearOnly => write!(out, "{:04}", d.year),
    };
}

/// One configured source.
pub struct Source {
    pub name: String,
    pub kind: Kind,
    ids: Permutation,
    issued: u64,
}

/// The configured sources and how records are spread over them.
pub struct Sources {
    list: Vec<Source>,
    all: Weighted,
    /// Without loyalty sources (for people who are not members).
    non_loyalty: Option<Weighted>,
}

impl Sources {
    /// Sources by name; `seed` keys their record-id permutations.
    pub fn new(names: &[String], seed: u64) -> anyhow::Result<Self> {
        anyhow::ensure!(!names.is_empty(), "at least one source is needed");
        let mut list = Vec::with_capacity(names.len());
        for (i, name) in names.iter().enumerate() {
            let name = name.trim();
            anyhow::ensure!(
                !name.is_empty()
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'),
                "source names must be non-empty letters, digits, '_' or '-': {name:?}"
            );
            anyhow::ensure!(
                list.iter().all(|s: &Source| s.name != name),
                "source {name:?} given twice"
            );
            let key =
                seed ^ mix64(i as u64 + 1) ^ name.bytes().fold(0u64, |h, b| mix64(h ^ b as u64));
            list.push(Source {
                name: name.to_string(),
                kind: Kind::from_name(name),
                ids: Permutation::new(key, 1_000_000_000),
                issued: 0,
            });
        }
        let all = Weighted::new(list.iter().map(|s| s.kind.weight()));
        let non_loyalty = list.iter().any(|s| s.kind != Kind::Loyalty).then(|| {
            Weighted::new(list.iter().map(|s| {
                if s.kind == Kind::Loyalty {
                    0.0
                } else {
                    s.kind.weight()
                }
            }))
        });
        Ok(Sources {
            list,
            all,
            non_loyalty,
        })
    }

    /// Picks the source of a person's next record.
    pub fn choose<R: Rng>(&self, rng: &mut R, member: bool) -> usize {
        match (&self.non_loyalty, member) {
            (Some(w), false) => w.sample(rng),
            _ => self.all.sample(rng),
        }
    }

    /// Builds the record source `index` holds about `person` into `row`.
    /// `scale` scales the per-record noise (the first record of a person
    /// is cleaner than later ones).
    pub fn render<R: Rng>(
        &mut self,
        index: usize,
        person: &Person,
        noise: &NoiseProfile,
        scale: f64,
        rng: &mut R,
        row: &mut Row,
    ) {
        let src = &mut self.list[index];
        let seq = src.issued;
        src.issued += 1;
        assert!(
            seq < src.ids.limit(),
            "too many records for source {}",
            src.name
        );
        row.f[col::SOURCE].push_str(&src.name);
        let _ = write!(
            row.f[col::RECORD_ID],
            "{}-{:09}",
            src.name,
            src.ids.apply(seq)
        );
        let r = Render {
            kind: src.kind,
            person,
            noise,
            scale,
        };
        r.fill(rng, row);
    }
}

/// Rendering of one record.
struct Render<'a> {
    kind: Kind,
    person: &'a Person,
    noise: &'a NoiseProfile,
    scale: f64,
}

impl Render<'_> {
    /// A per-record noise probability, scaled.
    fn p(&self, base: f64) -> f64 {
        base * self.scale
    }

    fn fill<R: Rng>(&self, rng: &mut R, row: &mut Row) {
        let cap = self.kind.capture();
        self.names(rng, row);
        if chance(rng, cap.dob) {
            self.dob(rng, &mut row.f[col::DOB]);
        }
        if chance(rng, cap.gender) {
            self.gender(rng, &mut row.f[col::GENDER]);
        }
        if chance(rng, cap.email) {
            self.email(rng, &mut row.f[col::EMAIL]);
        }
        if chance(rng, cap.phone) {
            self.phone(rng, &mut row.f[col::PHONE]);
        }
        let with_address = chance(rng, cap.address);
        if with_address || chance(rng, cap.postcode_only) {
            self.address(rng, row, with_address);
        }
        let p = self.person;
        if let Some(nid) = p.national_id {
            if chance(rng, cap.national_id) {
                self.national_id(rng, nid, &mut row.f[col::NATIONAL_ID]);
            }
        }
        if let Some(lid) = p.loyalty_id {
            if chance(rng, cap.loyalty_id) {
                let _ = write!(row.f[col::LOYALTY_ID], "LY{lid:08}");
            }
        }
        if chance(rng, cap.since) {
            let first = (p.dob.year + 18).clamp(1995, 2025);
            let year = rng.gen_range(first..=2025);
            let d = Date::random_in_year(rng, year);
            format_date(d, self.date_style(rng), &mut row.f[col::SINCE]);
        }
        if chance(rng, cap.purchase) {
            let u: f64 = rng.gen();
            let amount = 2.0 + u * u * u * 1500.0;
            let _ = write!(row.f[col::PURCHASE], "{amount:.2}");
        }
        // Fields lost on the way (names stay: a record always has one).
        for i in col::DOB..=col::PURCHASE {
            if !row.f[i].is_empty() && chance(rng, self.p(self.noise.missing)) {
                row.f[i].clear();
            }
        }
    }

    fn date_style<R: Rng>(&self, rng: &mut R) -> DateStyle {
        match self.kind {
            Kind::Crm | Kind::Support | Kind::Other => DateStyle::Iso,
            Kind::Pos => DateStyle::DayFirst,
            Kind::Web => {
                if chance(rng, 0.85) {
                    DateStyle::MonthFirst
                } else {
                    DateStyle::Iso
                }
            }
            Kind::CallCentre => DateStyle::DayFirst,
            Kind::Loyalty => DateStyle::Compact,
        }
    }

    /// Fills the name fields: the noisy given and family names, in the
    /// source's letter case and layout.
    fn names<R: Rng>(&self, rng: &mut R, row: &mut Row) {
        let (given, family) = self.noisy_names(rng);
        let case = self.name_case(rng);
        match self.kind {
            Kind::Pos => {
                self.pos_full_name(rng, case, &given, &family, &mut row.f[col::FULL_NAME]);
            }
            Kind::Support => {
                Self::support_full_name(rng, case, &given, &family, &mut row.f[col::FULL_NAME]);
            }
            _ => self.separate_names(rng, case, &given, &family, row),
        }
    }

    /// The given and family names this record holds: maiden name,
    /// nickname, per-part misspellings, and now and then the two swapped.
    fn noisy_names<R: Rng>(&self, rng: &mut R) -> (Cow<'static, str>, Cow<'static, str>) {
        let p = self.person;
        let nz = self.noise;
        let mut given: Cow<'static, str> = Cow::Borrowed(p.given);
        let mut family: Cow<'static, str> = Cow::Borrowed(p.family);
        if let Some(m) = p.maiden {
            if chance(rng, nz.use_maiden) {
                family = Cow::Borrowed(m);
            }
        }
        if chance(rng, self.p(nz.nickname)) {
            let nicks = names::nicknames_of(p.given);
            if !nicks.is_empty() {
                given = Cow::Borrowed(pick(rng, nicks));
            }
        }
        for part in [&mut given, &mut family] {
            self.misspell_name_part(rng, part);
        }
        if chance(rng, self.p(nz.swap_names)) {
            std::mem::swap(&mut given, &mut family);
        }
        (given, family)
    }

    /// Noise on one name part: a phonetic misspelling, one or two typos,
    /// a punctuation variant ("O'Brien", "OBrien"), accents stripped.
    fn misspell_name_part<R: Rng>(&self, rng: &mut R, part: &mut Cow<'static, str>) {
        let nz = self.noise;
        if chance(rng, self.p(self.phonetic_rate())) {
            *part = Cow::Owned(noise::phonetic_misspell(part, rng));
        }
        if chance(rng, self.p(nz.name_typo)) {
            *part = Cow::Owned(noise::typo(part, rng));
            if chance(rng, nz.second_typo) {
                *part = Cow::Owned(noise::typo(part, rng));
            }
        }
        if part.contains(['\'', '-']) && chance(rng, nz.punctuation) {
            *part = Cow::Owned(noise::punctuation_variant(part, rng));
        }
        if noise::has_accents(part) && chance(rng, self.accent_strip_rate()) {
            *part = Cow::Owned(noise::strip_accents(part, chance(rng, 0.3)));
        }
    }

    /// Base rate of phonetic misspellings (names taken down by ear are
    /// misspelt more often).
    fn phonetic_rate(&self) -> f64 {
        if self.kind == Kind::CallCentre {
            self.noise.phonetic_callcentre
        } else {
            self.noise.phonetic
        }
    }

    /// How often the source drops accents from a name that has them.
    fn accent_strip_rate(&self) -> f64 {
        match self.kind {
            Kind::Pos => 0.95,
            Kind::CallCentre => 0.8,
            Kind::Loyalty => 0.5,
            _ => self.noise.strip_accents,
        }
    }

    /// Letter case of the names: the source's habit, sometimes overridden
    /// by noise.
    fn name_case<R: Rng>(&self, rng: &mut R) -> Case {
        let habit = match self.kind {
            Kind::Pos => {
                if chance(rng, 0.6) {
                    Case::Upper
                } else {
                    Case::AsIs
                }
            }
            Kind::Loyalty => {
                if chance(rng, 0.3) {
                    Case::Upper
                } else {
                    Case::AsIs
                }
            }
            Kind::Web => match rng.gen_range(0..100u8) {
                0..=11 => Case::Lower,
                12..=19 => Case::Upper,
                _ => Case::AsIs,
            },
            _ => Case::AsIs,
        };
        if !chance(rng, self.p(self.noise.case_change)) {
            habit
        } else if chance(rng, 0.7) {
            Case::Upper
        } else {
            Case::Lower
        }
    }

    /// A title for the person: "Mr", "Mrs", "Ms", "Miss" or "Dr".
    fn title<R: Rng>(&self, rng: &mut R) -> &'static str {
        match self.person.gender {
            Gender::Male => {
                if chance(rng, 0.9) {
                    "Mr"
                } else {
                    "Dr"
                }
            }
            Gender::Female => pick(rng, &["Mrs", "Ms", "Miss", "Dr"]),
        }
    }

    /// A till's single name field: "Family, Given", "Given Family" (now and
    /// then after a title) or "G Family".
    fn pos_full_name<R: Rng>(
        &self,
        rng: &mut R,
        case: Case,
        given: &str,
        family: &str,
        out: &mut String,
    ) {
        let mut s = String::with_capacity(given.len() + family.len() + 8);
        let layout = rng.gen_range(0..100u8);
        if layout >= 50 && chance(rng, 0.08) {
            s.push_str(self.title(rng));
            s.push(' ');
        }
        match layout {
            0..=49 => {
                s.push_str(family);
                s.push_str(", ");
                s.push_str(given);
            }
            50..=79 => {
                s.push_str(given);
                s.push(' ');
                s.push_str(family);
            }
            _ => {
                if let Some(c) = given.chars().next() {
                    s.push(c);
                    s.push(' ');
                }
                s.push_str(family);
            }
        }
        case.push(out, &s);
    }

    /// A support desk's single name field: "Given Family", or the given
    /// name alone.
    fn support_full_name<R: Rng>(
        rng: &mut R,
        case: Case,
        given: &str,
        family: &str,
        out: &mut String,
    ) {
        if chance(rng, 0.1) {
            case.push(out, given);
        } else {
            case.push(out, given);
            out.push(' ');
            case.push(out, family);
        }
    }

    /// Separate given and family fields; CRM-like sources fill the full
    /// name too half the time.
    fn separate_names<R: Rng>(
        &self,
        rng: &mut R,
        case: Case,
        given: &str,
        family: &str,
        row: &mut Row,
    ) {
        case.push(&mut row.f[col::GIVEN], given);
        case.push(&mut row.f[col::FAMILY], family);
        if matches!(self.kind, Kind::Crm | Kind::Other) && chance(rng, 0.5) {
            self.crm_full_name(rng, case, given, family, &mut row.f[col::FULL_NAME]);
        }
    }

    /// A CRM's full name: "Given Family", now and then with a title, and
    /// half the time with the middle name or its initial if there is one.
    fn crm_full_name<R: Rng>(
        &self,
        rng: &mut R,
        case: Case,
        given: &str,
        family: &str,
        out: &mut String,
    ) {
        if chance(rng, 0.05) {
            case.push(out, self.title(rng));
            out.push(' ');
        }
        case.push(out, given);
        out.push(' ');
        if let Some(m) = self.person.middle {
            if chance(rng, 0.5) {
                if chance(rng, 0.5) {
                    case.push(out, m);
                } else if let Some(c) = m.chars().next() {
                    out.push(c);
                }
                out.push(' ');
            }
        }
        case.push(out, family);
    }

    fn dob<R: Rng>(&self, rng: &mut R, out: &mut String) {
        let nz = self.noise;
        if chance(rng, nz.generic_value) {
            let (y, m, d) = pick(rng, places::GENERIC_DOBS);
            format_date(
                Date {
                    year: y,
                    month: m,
                    day: d,
                },
                DateStyle::Iso,
                out,
            );
            return;
        }
        let mut d = self.person.dob;
        if chance(rng, self.p(nz.dob_swap)) {
            if let Some(s) = d.swapped() {
                d = s;
            }
        }
        if chance(rng, self.p(nz.dob_year)) {
            d = d.with_year(if chance(rng, 0.5) {
                d.year + 1
            } else {
                d.year - 1
            });
        }
        if chance(rng, self.p(nz.dob_day)) {
            let max = Date::days_in_month(d.year, d.month);
            d.day = if d.day == max || (d.day > 1 && chance(rng, 0.5)) {
                d.day - 1
            } else {
                d.day + 1
            };
        }
        let style = match self.kind {
            Kind::CallCentre if chance(rng, 0.05) => DateStyle::YearOnly,
            _ => self.date_style(rng),
        };
        format_date(d, style, out);
    }

    fn gender<R: Rng>(&self, rng: &mut R, out: &mut String) {
        let mut g = self.person.gender;
        if chance(rng, self.noise.gender_error) {
            g = g.other();
        }
        let s = match (self.kind, g) {
            (Kind::Web, Gender::Male) => "Male",
            (Kind::Web, Gender::Female) => "Female",
            (_, Gender::Male) => "M",
            (_, Gender::Female) => "F",
        };
        out.push_str(s);
    }

    fn email<R: Rng>(&self, rng: &mut R, out: &mut String) {
        let nz = self.noise;
        if chance(rng, nz.generic_value) {
            out.push_str(pick(rng, places::GENERIC_EMAILS));
            return;
        }
        let emails = &self.person.emails;
        let mut e: &str = &emails[0];
        if emails.len() > 1 && chance(rng, nz.use_second_email) {
            e = &emails[rng.gen_range(1..emails.len())];
        }
        let mut e = Cow::Borrowed(e);
        if chance(rng, self.p(nz.email_typo)) {
            if let Some((local, domain)) = e.split_once('@') {
                let t = noise::typo(local, rng);
                e = Cow::Owned(format!("{t}@{domain}"));
            }
        }
        let upper =
            matches!(self.kind, Kind::Crm | Kind::Other) && chance(rng, self.p(nz.case_change));
        if upper {
            noise::push_upper(out, &e);
        } else if self.kind == Kind::Web && chance(rng, 0.05) {
            // Typed with a capital: "John.Smith@gmail.com".
            let mut cs = e.chars();
            if let Some(c) = cs.next() {
                out.extend(c.to_uppercase());
                out.push_str(cs.as_str());
            }
        } else {
            out.push_str(&e);
        }
    }

    fn phone<R: Rng>(&self, rng: &mut R, out: &mut String) {
        let nz = self.noise;
        let p = self.person;
        if chance(rng, nz.generic_value) {
            out.push_str(pick(rng, places::GENERIC_PHONES));
            return;
        }
        let use_landline = match (&p.mobile, &p.landline) {
            (None, Some(_)) => true,
            (Some(_), Some(_)) => {
                let rate = if p.in_household {
                    0.5
                } else {
                    self.p(nz.landline)
                };
                chance(rng, rate)
            }
            _ => false,
        };
        let phone = if use_landline {
            p.landline.as_ref()
        } else {
            p.mobile.as_ref()
        };
        let Some(phone) = phone else { return };
        let style = match self.kind {
            Kind::Crm | Kind::Other => match rng.gen_range(0..100u8) {
                0..=59 => PhoneStyle::Compact,
                60..=84 => PhoneStyle::E164,
                _ => PhoneStyle::Spaced,
            },
            Kind::Pos => PhoneStyle::Compact,
            Kind::Web => match rng.gen_range(0..100u8) {
                0..=34 => PhoneStyle::Compact,
                35..=64 => PhoneStyle::Spaced,
                65..=79 => PhoneStyle::E164,
                _ => PhoneStyle::International,
            },
            Kind::CallCentre => {
                if chance(rng, 0.65) {
                    PhoneStyle::Spaced
                } else {
                    PhoneStyle::International
                }
            }
            Kind::Loyalty => {
                if chance(rng, 0.7) {
                    PhoneStyle::Compact
                } else {
                    PhoneStyle::DigitsOnly
                }
            }
            Kind::Support => {
                if chance(rng, 0.5) {
                    PhoneStyle::E164
                } else {
                    PhoneStyle::Compact
                }
            }
        };
        let foreign_national = chance(rng, nz.foreign_national);
        if chance(rng, self.p(nz.phone_digit)) {
            let mut s = String::with_capacity(20);
            phone.format(style, foreign_national, &mut s);
            out.push_str(&noise::digit_typo(&s, 8, rng));
        } else {
            phone.format(style, foreign_national, out);
        }
    }

    fn address<R: Rng>(&self, rng: &mut R, row: &mut Row, full: bool) {
        let nz = self.noise;
        let p = self.person;
        let a: &Address = match &p.old_address {
            Some(old) if chance(rng, nz.old_address) => old,
            _ => &p.address,
        };
        let loc = a.locality;
        let upper_locality = matches!(self.kind, Kind::Pos | Kind::Loyalty) || chance(rng, 0.1);
        if full {
            // Street line.
            let out = &mut row.f[col::STREET];
            if let Some(u) = a.unit {
                if self.kind == Kind::Crm && chance(rng, 0.2) {
                    let _ = write!(out, "Unit {u}, ");
                } else {
                    let _ = write!(out, "{u}/");
                }
            }
            let _ = write!(out, "{} ", a.number);
            let street: Cow<str> = if chance(rng, self.p(nz.address_typo)) {
                Cow::Owned(noise::typo(a.street, rng))
            } else {
                Cow::Borrowed(a.street)
            };
            let abbreviate_habit = match self.kind {
                Kind::Crm | Kind::Other => 0.2,
                Kind::Pos => 0.9,
                Kind::Web => 0.5,
                Kind::CallCentre => 0.3,
                Kind::Loyalty => 0.8,
                Kind::Support => 0.5,
            };
            let mut abbreviate = chance(rng, abbreviate_habit);
            if chance(rng, self.p(nz.street_abbrev)) {
                abbreviate = !abbreviate;
            }
            let (full_type, abbr, _) = places::STREET_TYPES[a.street_type];
            let upper = upper_locality && self.kind == Kind::Pos;
            if upper {
                noise::push_upper(out, &street);
                out.push(' ');
                noise::push_upper(out, if abbreviate { abbr } else { full_type });
            } else {
                out.push_str(&street);
                out.push(' ');
                out.push_str(if abbreviate { abbr } else { full_type });
            }
            // Locality.
            let locality: Cow<str> = if chance(rng, self.p(nz.address_typo)) {
                Cow::Owned(noise::typo(loc.name, rng))
            } else {
                Cow::Borrowed(loc.name)
            };
            let out = &mut row.f[col::LOCALITY];
            if upper_locality {
                noise::push_upper(out, &locality);
            } else if self.kind == Kind::Web && chance(rng, 0.15) {
                noise::push_lower(out, &locality);
            } else {
                out.push_str(&locality);
            }
            // Region.
            let out = &mut row.f[col::REGION];
            match places::region_full(loc.region) {
                Some(full_region) if self.kind == Kind::Web && chance(rng, 0.25) => {
                    out.push_str(full_region)
                }
                _ => out.push_str(loc.region),
            }
            // Country.
            let present = match (self.kind, loc.country) {
                (_, c) if c != Country::Au => 0.95,
                (Kind::Crm | Kind::Other | Kind::Loyalty, _) => 0.9,
                (Kind::Web, _) => 0.8,
                (Kind::CallCentre, _) => 0.4,
                _ => 0.0,
            };
            if chance(rng, present) {
                let out = &mut row.f[col::COUNTRY];
                if self.kind == Kind::Web {
                    out.push_str(pick(rng, loc.country.variants()));
                } else {
                    out.push_str(loc.country.code());
                }
            }
        }
        // Postcode.
        let out = &mut row.f[col::POSTCODE];
        if chance(rng, self.p(nz.postcode_typo)) {
            if a.postcode.starts_with('0') && chance(rng, 0.5) {
                // A spreadsheet dropped the leading zero.
                out.push_str(&a.postcode[1..]);
            } else {
                out.push_str(&noise::digit_typo(&a.postcode, 4, rng));
            }
        } else {
            out.push_str(&a.postcode);
        }
    }

    fn national_id<R: Rng>(&self, rng: &mut R, nid: u64, out: &mut String) {
        let mut s = String::with_capacity(12);
        let _ = write!(s, "{nid:09}");
        if chance(rng, self.p(self.noise.national_id_typo)) {
            s = noise::digit_typo(&s, 9, rng);
        }
        if self.kind == Kind::CallCentre && chance(rng, 0.4) {
            out.push_str(&s[..3]);
            out.push(' ');
            out.push_str(&s[3..6]);
            out.push(' ');
            out.push_str(&s[6..]);
        } else {
            out.push_str(&s);
        }
    }
}

/// Letter case applied to names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Case {
    AsIs,
    Upper,
    Lower,
}

impl Case {
    fn push(self, out: &mut String, s: &str) {
        match self {
            Case::AsIs => out.push_str(s),
            Case::Upper => noise::push_upper(out, s),
            Case::Lower => noise::push_lower(out, s),
        }
    }
}
