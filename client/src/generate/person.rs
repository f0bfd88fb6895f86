//! The true identity of a generated person — the values every source
//! record is derived from before source conventions and noise — and the
//! sampling of people: realistic name frequencies, dates of birth, e-mail
//! addresses built from the name, phones, addresses, identifiers, and
//! households of relatives who share an address and landline (the
//! confusable non-duplicates).

use rand::Rng;

use super::ids::Permutation;
use super::names;
use super::noise::{self, NoiseProfile};
use super::places::{self, Country, Locality};

/// True with probability `p` (any `p`; values outside 0..1 saturate).
#[inline]
pub fn chance<R: Rng>(rng: &mut R, p: f64) -> bool {
    p > 0.0 && rng.gen::<f64>() < p
}

/// Picks one element uniformly.
#[inline]
pub fn pick<T: Copy, R: Rng>(rng: &mut R, items: &[T]) -> T {
    items[rng.gen_range(0..items.len())]
}

/// Picks one element uniformly, by reference.
#[inline]
pub fn pick_ref<'a, T, R: Rng>(rng: &mut R, items: &'a [T]) -> &'a T {
    &items[rng.gen_range(0..items.len())]
}

/// Sampling from a fixed discrete distribution.
#[derive(Debug, Clone)]
pub struct Weighted {
    cum: Vec<f64>,
}

impl Weighted {
    /// From relative weights (at least one positive).
    pub fn new(weights: impl IntoIterator<Item = f64>) -> Self {
        let mut total = 0.0;
        let cum = weights
            .into_iter()
            .map(|w| {
                total += w.max(0.0);
                total
            })
            .collect::<Vec<_>>();
        assert!(total > 0.0, "weights must not all be zero");
        Weighted { cum }
    }

    /// Zipf-like weights by rank: `1 / (rank + offset)^exponent`.
    pub fn zipf(n: usize, exponent: f64, offset: f64) -> Self {
        Weighted::new((0..n).map(|r| 1.0 / (r as f64 + offset).powf(exponent)))
    }

    /// An index drawn with probability proportional to its weight.
    pub fn sample<R: Rng>(&self, rng: &mut R) -> usize {
        let total = *self.cum.last().expect("non-empty");
        let x = rng.gen::<f64>() * total;
        self.cum
            .partition_point(|&c| c <= x)
            .min(self.cum.len() - 1)
    }

    /// The share of the total weight at index `i`.
    #[cfg(test)]
    pub fn share(&self, i: usize) -> f64 {
        let prev = if i == 0 { 0.0 } else { self.cum[i - 1] };
        (self.cum[i] - prev) / self.cum.last().expect("non-empty")
    }
}

/// A calendar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

impl Date {
    /// Days in a month of a year.
    pub fn days_in_month(year: u16, month: u8) -> u8 {
        match month {
            4 | 6 | 9 | 11 => 30,
            2 => {
                // Gregorian (genealogy dates reach back to 1600).
                let leap = year.is_multiple_of(4)
                    && (!year.is_multiple_of(100) || year.is_multiple_of(400));
                if leap {
                    29
                } else {
                    28
                }
            }
            _ => 31,
        }
    }

    /// A valid date, or None.
    pub fn new(year: u16, month: u8, day: u8) -> Option<Date> {
        ((1..=12).contains(&month) && day >= 1 && day <= Date::days_in_month(year, month))
            .then_some(Date { year, month, day })
    }

    /// A uniformly random day of a year.
    pub fn random_in_year<R: Rng>(rng: &mut R, year: u16) -> Date {
        let month = rng.gen_range(1..=12u8);
        let day = rng.gen_range(1..=Date::days_in_month(year, month));
        Date { year, month, day }
    }

    /// Day and month swapped, when that is still a date and differs.
    pub fn swapped(self) -> Option<Date> {
        if self.day == self.month {
            return None;
        }
        Date::new(self.year, self.day, self.month)
    }

    /// The same day with another year (28 Feb when 29 Feb does not exist).
    pub fn with_year(self, year: u16) -> Date {
        let day = self.day.min(Date::days_in_month(year, self.month));
        Date {
            year,
            month: self.month,
            day,
        }
    }
}

/// Recorded gender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gender {
    Male,
    Female,
}

impl Gender {
    /// The other one.
    pub fn other(self) -> Gender {
        match self {
            Gender::Male => Gender::Female,
            Gender::Female => Gender::Male,
        }
    }
}

/// A phone number: country, kind and national significant number (the
/// digits after the trunk prefix or country code).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone {
    pub country: Country,
    pub mobile: bool,
    pub nsn: String,
    /// Length of the leading area code / mobile prefix within `nsn`.
    pub area_len: u8,
}

/// How a source writes phone numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhoneStyle {
    /// "0412345678"
    Compact,
    /// "0412 345 678", "(02) 9876 5432", "(212) 555-0123"
    Spaced,
    /// "+61 412 345 678"
    International,
    /// "+61412345678"
    E164,
    /// "61412345678"
    DigitsOnly,
}

impl Phone {
    /// Writes the number in a style. Numbers outside Australia are written
    /// with their country code unless `allow_foreign_national` is set.
    pub fn format(&self, style: PhoneStyle, allow_foreign_national: bool, out: &mut String) {
        let style = if self.country != Country::Au
            && !allow_foreign_national
            && matches!(style, PhoneStyle::Compact | PhoneStyle::Spaced)
        {
            PhoneStyle::International
        } else {
            style
        };
        let cc = self.country.calling_code();
        let trunk = if self.country == Country::Us { "" } else { "0" };
        let nsn = self.nsn.as_str();
        let a = self.area_len as usize;
        match style {
            PhoneStyle::Compact => {
                out.push_str(trunk);
                out.push_str(nsn);
            }
            PhoneStyle::DigitsOnly => {
                out.push_str(cc);
                out.push_str(nsn);
            }
            PhoneStyle::E164 => {
                out.push('+');
                out.push_str(cc);
                out.push_str(nsn);
            }
            PhoneStyle::Spaced => match self.country {
                Country::Us => {
                    out.push('(');
                    out.push_str(&nsn[..3]);
                    out.push_str(") ");
                    out.push_str(&nsn[3..6]);
                    out.push('-');
                    out.push_str(&nsn[6..]);
                }
                Country::Au if !self.mobile => {
                    out.push_str("(0");
                    out.push_str(&nsn[..a]);
                    out.push_str(") ");
                    push_grouped(out, &nsn[a..], &[4, 4]);
                }
                Country::Au => {
                    out.push('0');
                    push_grouped(out, nsn, &[3, 3, 3]);
                }
                _ => {
                    out.push_str(trunk);
                    out.push_str(&nsn[..a]);
                    out.push(' ');
                    push_subscriber(out, &nsn[a..]);
                }
            },
            PhoneStyle::International => {
                out.push('+');
                out.push_str(cc);
                out.push(' ');
                match self.country {
                    Country::Au if self.mobile => push_grouped(out, nsn, &[3, 3, 3]),
                    Country::Us => push_grouped(out, nsn, &[3, 3, 4]),
                    _ => {
                        out.push_str(&nsn[..a]);
                        out.push(' ');
                        push_subscriber(out, &nsn[a..]);
                    }
                }
            }
        }
    }
}

/// Appends a subscriber number after its area code: "900123",
/// "123 4567", "9876 5432".
fn push_subscriber(out: &mut String, rest: &str) {
    match rest.len() {
        7 => push_grouped(out, rest, &[3, 4]),
        8 => push_grouped(out, rest, &[4, 4]),
        _ => out.push_str(rest),
    }
}

/// Appends digits in groups separated by spaces (the last group takes the rest).
fn push_grouped(out: &mut String, digits: &str, groups: &[usize]) {
    let mut i = 0;
    for (k, &g) in groups.iter().enumerate() {
        if i >= digits.len() {
            break;
        }
        if k > 0 {
            out.push(' ');
        }
        let end = if k + 1 == groups.len() {
            digits.len()
        } else {
            (i + g).min(digits.len())
        };
        out.push_str(&digits[i..end]);
        i = end;
    }
}

/// A postal address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    pub unit: Option<u16>,
    pub number: u16,
    pub street: &'static str,
    /// Index into [`places::STREET_TYPES`].
    pub street_type: usize,
    pub locality: &'static Locality,
    pub postcode: String,
}

/// Everything true about one person.
#[derive(Debug, Clone)]
pub struct Person {
    pub id: u64,
    pub gender: Gender,
    pub given: &'static str,
    pub middle: Option<&'static str>,
    pub family: &'static str,
    /// A previous family name (women who changed name at marriage).
    pub maiden: Option<&'static str>,
    pub dob: Date,
    /// One or more addresses, the first the person's own.
    pub emails: Vec<String>,
    pub mobile: Option<Phone>,
    pub landline: Option<Phone>,
    pub address: Address,
    pub old_address: Option<Address>,
    pub national_id: Option<u64>,
    pub loyalty_id: Option<u64>,
    /// Lives with relatives whose records look alike.
    pub in_household: bool,
    /// A relative's national identifier that one of this person's records
    /// carries by mistake (a household conflict).
    pub relative_national_id: Option<u64>,
}

/// Kinds of relative generated into a household.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Relation {
    Twin,
    Sibling,
    Parent,
    Child,
    Spouse,
}

/// Samples people. Holds the parsed pools and their weights.
pub struct PersonFactory {
    male: Vec<&'static str>,
    male_w: Weighted,
    female: Vec<&'static str>,
    female_w: Weighted,
    family: Vec<&'static str>,
    family_w: Weighted,
    streets: Vec<&'static str>,
    street_type_w: Weighted,
    au_w: Weighted,
    providers_w: Weighted,
    national_ids: Permutation,
    loyalty_ids: Permutation,
    next_id: u64,
    noise: NoiseProfile,
}

/// Birth years covered.
pub const FIRST_YEAR: u16 = 1930;
pub const LAST_YEAR: u16 = 2006;

impl PersonFactory {
    /// A factory; `seed` keys the identifier permutations.
    pub fn new(seed: u64, noise: NoiseProfile) -> Self {
        let male = names::parse_list(names::MALE_GIVEN);
        let female = names::parse_list(names::FEMALE_GIVEN);
        let family = names::parse_list(names::FAMILY);
        let streets = names::parse_list(places::STREETS);
        PersonFactory {
            male_w: Weighted::zipf(male.len(), 0.9, 4.0),
            female_w: Weighted::zipf(female.len(), 0.9, 4.0),
            family_w: Weighted::zipf(family.len(), 1.0, 12.0),
            male,
            female,
            family,
            streets,
            street_type_w: Weighted::new(places::STREET_TYPES.iter().map(|t| t.2 as f64)),
            au_w: Weighted::new(places::AU_LOCALITIES.iter().map(|l| l.weight as f64)),
            providers_w: Weighted::new(places::EMAIL_PROVIDERS.iter().map(|p| p.1 as f64)),
            national_ids: Permutation::new(seed ^ 0x6e61_7469_6f6e_616c, 1_000_000_000),
            loyalty_ids: Permutation::new(seed ^ 0x6c6f_7961_6c74_7921, 100_000_000),
            next_id: 1,
            noise,
        }
    }

    fn given_name<R: Rng>(&self, rng: &mut R, gender: Gender) -> &'static str {
        match gender {
            Gender::Male => self.male[self.male_w.sample(rng)],
            Gender::Female => self.female[self.female_w.sample(rng)],
        }
    }

    fn family_name<R: Rng>(&self, rng: &mut R) -> (&'static str, bool) {
        let i = self.family_w.sample(rng);
        (self.family[i], i < 100)
    }

    fn birth_date<R: Rng>(rng: &mut R) -> Date {
        // Bell-shaped over 1930..=2006, centred on the late 1960s.
        let span = (LAST_YEAR - FIRST_YEAR) as f64;
        let u = (rng.gen::<f64>() + rng.gen::<f64>() + rng.gen::<f64>()) / 3.0;
        let year = FIRST_YEAR + (u * span).round() as u16;
        Date::random_in_year(rng, year.min(LAST_YEAR))
    }

    /// A fresh address, in Australia mostly.
    pub fn address<R: Rng>(&self, rng: &mut R, country: Country) -> Address {
        let locality: &'static Locality = match country {
            Country::Au => &places::AU_LOCALITIES[self.au_w.sample(rng)],
            Country::Nz => pick_ref(rng, places::NZ_LOCALITIES),
            Country::Gb => pick_ref(rng, places::GB_LOCALITIES),
            Country::Us => pick_ref(rng, places::US_LOCALITIES),
        };
        let postcode = match country {
            Country::Gb => {
                let mut p = String::with_capacity(8);
                p.push_str(locality.postcode);
                p.push(' ');
                p.push((b'0' + rng.gen_range(0..10u8)) as char);
                for _ in 0..2 {
                    // Inward codes avoid C, I, K, M, O, V.
                    p.push(pick(
                        rng,
                        &[
                            'A', 'B', 'D', 'E', 'F', 'G', 'H', 'J', 'L', 'N', 'P', 'Q', 'R', 'S',
                            'T', 'U', 'W', 'X', 'Y', 'Z',
                        ],
                    ));
                }
                p
            }
            Country::Us => format!("{}{:02}", locality.postcode, rng.gen_range(1..40u8)),
            _ => locality.postcode.to_string(),
        };
        let number = if chance(rng, 0.7) {
            rng.gen_range(1..100)
        } else {
            rng.gen_range(100..600)
        };
        Address {
            unit: chance(rng, 0.15).then(|| rng.gen_range(1..40)),
            number,
            street: self.streets[rng.gen_range(0..self.streets.len())],
            street_type: self.street_type_w.sample(rng),
            locality,
            postcode,
        }
    }

    /// A mobile number for someone living in `country`.
    pub fn mobile<R: Rng>(rng: &mut R, country: Country) -> Phone {
        let mut nsn = String::with_capacity(10);
        let (area_len, rest) = match country {
            Country::Au => {
                nsn.push('4');
                (3, 8)
            }
            Country::Nz => {
                nsn.push_str(pick(rng, &["21", "22", "27"]));
                (2, 7)
            }
            Country::Gb => {
                nsn.push('7');
                (4, 9)
            }
            Country::Us => {
                nsn.push_str(pick(
                    rng,
                    &["212", "310", "312", "415", "617", "206", "305", "512"],
                ));
                nsn.push((b'2' + rng.gen_range(0..8u8)) as char);
                (3, 6)
            }
        };
        for _ in 0..rest {
            nsn.push((b'0' + rng.gen_range(0..10u8)) as char);
        }
        Phone {
            country,
            mobile: true,
            nsn,
            area_len,
        }
    }

    /// A landline at an address.
    pub fn landline<R: Rng>(rng: &mut R, address: &Address) -> Phone {
        let country = address.locality.country;
        let mut nsn = String::with_capacity(10);
        let area_len = match country {
            Country::Au => {
                let region = address.locality.region;
                nsn.push((b'0' + places::au_area_code(region)) as char);
                // Leading digits of local numbers, roughly by state.
                let lead: &[u8] = match region {
                    "NSW" | "VIC" => b"9984",
                    "ACT" | "TAS" => b"6",
                    "QLD" => b"3345",
                    "WA" => b"9",
                    _ => b"8",
                };
                nsn.push(pick(rng, lead) as char);
                for _ in 0..7 {
                    nsn.push((b'0' + rng.gen_range(0..10u8)) as char);
                }
                1
            }
            Country::Nz => {
                nsn.push('9');
                nsn.push((b'2' + rng.gen_range(0..8u8)) as char);
                for _ in 0..6 {
                    nsn.push((b'0' + rng.gen_range(0..10u8)) as char);
                }
                1
            }
            Country::Gb => {
                nsn.push_str("20");
                nsn.push_str(pick(rng, &["7", "8", "3"]));
                for _ in 0..7 {
                    nsn.push((b'0' + rng.gen_range(0..10u8)) as char);
                }
                2
            }
            Country::Us => return Self::mobile(rng, Country::Us),
        };
        Phone {
            country,
            mobile: false,
            nsn,
            area_len,
        }
    }

    /// An e-mail address built from a name.
    #[allow(clippy::too_many_arguments)]
    pub fn email<R: Rng>(
        &self,
        rng: &mut R,
        given: &str,
        family: &str,
        dob: Date,
        common: bool,
        country: Country,
        avoid_domain: Option<&str>,
    ) -> String {
        let g = email_part(given);
        let f = email_part(family);
        let mut out = String::with_capacity(40);
        let g = if g.is_empty() { "user".to_string() } else { g };
        let f = if f.is_empty() { "mail".to_string() } else { f };
        // Short local parts (a given name, an initial) are mostly taken
        // already: they carry digits more often.
        let short = match rng.gen_range(0..10u8) {
            0..=2 => {
                out.push_str(&g);
                out.push('.');
                out.push_str(&f);
                false
            }
            3 => {
                out.push_str(&g);
                out.push_str(&f);
                false
            }
            4 => {
                out.push_str(&g);
                out.push('_');
                out.push_str(&f);
                false
            }
            5 | 6 => {
                out.push_str(&g[..g.chars().next().map_or(1, char::len_utf8)]);
                out.push_str(&f);
                true
            }
            7 => {
                out.push_str(&f);
                out.push('.');
                out.push_str(&g);
                false
            }
            8 => {
                out.push_str(&g);
                true
            }
            _ => {
                out.push_str(&g);
                out.push('.');
                out.push_str(&f[..f.chars().next().map_or(1, char::len_utf8)]);
                true
            }
        };
        let given_only = out.len() == g.len();
        let digits_p = if given_only {
            1.0
        } else if common || short {
            0.95
        } else {
            0.7
        };
        if chance(rng, digits_p) {
            use std::fmt::Write;
            match rng.gen_range(0..4u8) {
                0 if !given_only => {
                    let _ = write!(out, "{:02}", dob.year % 100);
                }
                1 if !given_only => {
                    let _ = write!(out, "{}", dob.year);
                }
                2 if !given_only => {
                    let _ = write!(out, "{}", rng.gen_range(1..100u32));
                }
                _ => {
                    let _ = write!(out, "{}", rng.gen_range(100..10_000u32));
                }
            }
        }
        out.push('@');
        loop {
            let domain = if country != Country::Au {
                pick(rng, places::foreign_providers(country))
            } else if chance(rng, 0.08) {
                pick(rng, places::COMPANY_DOMAINS)
            } else {
                places::EMAIL_PROVIDERS[self.providers_w.sample(rng)].0
            };
            if Some(domain) != avoid_domain {
                out.push_str(domain);
                break;
            }
        }
        out
    }

    /// Generates one person, or a household of two or three related people
    /// (returned together; ids are consecutive).
    pub fn household<R: Rng>(&mut self, rng: &mut R) -> Vec<Person> {
        let primary = self.person(rng);
        if !chance(rng, self.noise.household) {
            return vec![primary];
        }
        let size = if chance(rng, 0.2) { 3 } else { 2 };
        let mut members = vec![primary];
        let mut landline = members[0].landline.clone();
        if landline.is_none() {
            landline = Some(Self::landline(rng, &members[0].address));
        }
        let family_email = chance(rng, 0.3).then(|| {
            let f = email_part(members[0].family);
            let f = if f.is_empty() { "home".to_string() } else { f };
            let provider = places::EMAIL_PROVIDERS[self.providers_w.sample(rng)].0;
            let n = rng.gen_range(1..1000u32);
            if chance(rng, 0.5) && !f.ends_with('s') {
                format!("the{f}s{n}@{provider}")
            } else {
                format!("{f}family{n}@{provider}")
            }
        });
        members[0].landline = landline.clone();
        members[0].in_household = true;
        if let Some(e) = &family_email {
            members[0].emails.push(e.clone());
        }
        while members.len() < size {
            let base = members[0].clone();
            let relation = pick(
                rng,
                &[
                    Relation::Twin,
                    Relation::Sibling,
                    Relation::Sibling,
                    Relation::Parent,
                    Relation::Child,
                    Relation::Spouse,
                    Relation::Spouse,
                ],
            );
            let mut r = self.relative(rng, &base, relation);
            r.landline = landline.clone();
            r.in_household = true;
            if chance(rng, self.noise.borrowed_id) {
                r.relative_national_id = base.national_id.filter(|id| Some(*id) != r.national_id);
            }
            if let Some(e) = &family_email {
                r.emails.push(e.clone());
            }
            members.push(r);
        }
        members
    }

    /// A relative of `base`: same family name, address and landline,
    /// different given name (and date of birth, except twins).
    fn relative<R: Rng>(&mut self, rng: &mut R, base: &Person, relation: Relation) -> Person {
        let mut gender = if chance(rng, 0.5) {
            Gender::Male
        } else {
            Gender::Female
        };
        let shift = |rng: &mut R, lo: i32, hi: i32| -> i32 {
            let d = rng.gen_range(lo..=hi);
            if chance(rng, 0.5) {
                d
            } else {
                -d
            }
        };
        let year = base.dob.year as i32;
        let dob = match relation {
            Relation::Twin => base.dob,
            Relation::Sibling => {
                let y = (year + shift(rng, 1, 10)).clamp(FIRST_YEAR as i32, LAST_YEAR as i32);
                Date::random_in_year(rng, y as u16)
            }
            Relation::Parent | Relation::Child => {
                let up = year - rng.gen_range(20..=40);
                let down = year + rng.gen_range(20..=40);
                let y = if (relation == Relation::Parent && up >= FIRST_YEAR as i32)
                    || down > LAST_YEAR as i32
                {
                    up.max(FIRST_YEAR as i32)
                } else {
                    down
                };
                Date::random_in_year(rng, y as u16)
            }
            Relation::Spouse => {
                gender = base.gender.other();
                let y = (year + shift(rng, 0, 8)).clamp(FIRST_YEAR as i32, LAST_YEAR as i32);
                Date::random_in_year(rng, y as u16)
            }
        };
        let dob = if relation != Relation::Twin && dob == base.dob {
            dob.with_year(if dob.year > FIRST_YEAR {
                dob.year - 1
            } else {
                dob.year + 1
            })
        } else {
            dob
        };
        let given = loop {
            let g = self.given_name(rng, gender);
            if g != base.given {
                break g;
            }
        };
        let country = base.address.locality.country;
        let maiden = (relation == Relation::Spouse && gender == Gender::Female)
            .then(|| self.family_name(rng).0)
            .filter(|m| *m != base.family);
        let mut p = self.base_person(rng, gender, given, base.family, dob, false, country);
        p.maiden = maiden;
        p.address = base.address.clone();
        p.old_address = None;
        p
    }

    /// One person on their own.
    pub fn person<R: Rng>(&mut self, rng: &mut R) -> Person {
        let gender = if chance(rng, 0.49) {
            Gender::Male
        } else {
            Gender::Female
        };
        let country = match rng.gen_range(0..100u8) {
            0..=89 => Country::Au,
            90..=93 => Country::Nz,
            94..=96 => Country::Gb,
            _ => Country::Us,
        };
        let dob = Self::birth_date(rng);
        let (given, family, common) = if chance(rng, self.noise.common_name) {
            let candidates: Vec<_> = names::COMMON_FULL_NAMES
                .iter()
                .filter(|(_, _, male)| *male == (gender == Gender::Male))
                .collect();
            let &(g, f, _) = pick(rng, &candidates);
            (g, f, true)
        } else {
            let (f, common) = self.family_name(rng);
            (self.given_name(rng, gender), f, common)
        };
        let mut p = self.base_person(rng, gender, given, family, dob, common, country);
        if gender == Gender::Female && dob.year < 1998 && chance(rng, self.noise.maiden) {
            let m = self.family_name(rng).0;
            if m != family {
                p.maiden = Some(m);
            }
        }
        if chance(rng, self.noise.moved) {
            let moved_from = if chance(rng, 0.9) {
                country
            } else {
                Country::Au
            };
            p.old_address = Some(self.address(rng, moved_from));
        }
        p
    }

    #[allow(clippy::too_many_arguments)]
    fn base_person<R: Rng>(
        &mut self,
        rng: &mut R,
        gender: Gender,
        given: &'static str,
        family: &'static str,
        dob: Date,
        common: bool,
        country: Country,
    ) -> Person {
        let id = self.next_id;
        self.next_id += 1;
        let middle = chance(rng, 0.4).then(|| loop {
            let m = self.given_name(rng, gender);
            if m != given {
                break m;
            }
        });
        let mut emails = Vec::with_capacity(3);
        let first = self.email(rng, given, family, dob, common, country, None);
        if chance(rng, self.noise.second_email) {
            let domain = first.rsplit('@').next().unwrap_or("").to_string();
            let second = self.email(rng, given, family, dob, common, country, Some(&domain));
            emails.push(first);
            emails.push(second);
        } else {
            emails.push(first);
        }
        let address = self.address(rng, country);
        // A few people keep a phone from another country.
        let phone_country = if chance(rng, 0.01) {
            pick(rng, &[Country::Gb, Country::Us, Country::Nz])
        } else {
            country
        };
        let mobile = chance(rng, 0.95).then(|| Self::mobile(rng, phone_country));
        let old = dob.year < 1960;
        let landline = (mobile.is_none() || chance(rng, if old { 0.5 } else { 0.2 }))
            .then(|| Self::landline(rng, &address));
        let national_id = chance(rng, 0.5).then(|| self.national_ids.apply(id % 1_000_000_000));
        let loyalty_id = chance(rng, 0.4).then(|| self.loyalty_ids.apply(id % 100_000_000));
        Person {
            id,
            gender,
            given,
            middle,
            family,
            maiden: None,
            dob,
            emails,
            mobile,
            landline,
            address,
            old_address: None,
            national_id,
            loyalty_id,
            in_household: false,
            relative_national_id: None,
        }
    }
}

/// A name as it appears in an e-mail local part: lower-case ASCII letters.
pub fn email_part(name: &str) -> String {
    let plain = if noise::has_accents(name) {
        noise::strip_accents(name, false)
    } else {
        name.to_string()
    };
    plain
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}
