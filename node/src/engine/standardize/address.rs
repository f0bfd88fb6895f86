//! Postal addresses: street lines with street-type, direction and unit
//! abbreviations expanded ("12 Wallaby Pl" -> "12 wallaby place"), house
//! number split from the street, postcodes, ISO country codes, and
//! state/province names mapped to their usual abbreviations.

use std::sync::LazyLock;

use rustc_hash::FxHashMap;

use super::text::fold;

/// Street types (AU, NZ, UK, US usage).
const STREET_TYPES: &[(&str, &str)] = &[
    ("str", "street"),
    ("rd", "road"),
    ("ave", "avenue"),
    ("av", "avenue"),
    ("avn", "avenue"),
    ("avenu", "avenue"),
    ("dr", "drive"),
    ("drv", "drive"),
    ("ln", "lane"),
    ("ct", "court"),
    ("crt", "court"),
    ("pl", "place"),
    ("cres", "crescent"),
    ("cr", "crescent"),
    ("crs", "crescent"),
    ("cresc", "crescent"),
    ("hwy", "highway"),
    ("hway", "highway"),
    ("pde", "parade"),
    ("tce", "terrace"),
    ("terr", "terrace"),
    ("ter", "terrace"),
    ("cct", "circuit"),
    ("crct", "circuit"),
    ("blvd", "boulevard"),
    ("bvd", "boulevard"),
    ("boul", "boulevard"),
    ("sq", "square"),
    ("sqr", "square"),
    ("cl", "close"),
    ("gr", "grove"),
    ("grv", "grove"),
    ("pkwy", "parkway"),
    ("pky", "parkway"),
    ("pwy", "parkway"),
    ("mt", "mount"),
    ("ft", "fort"),
    ("cir", "circle"),
    ("circ", "circle"),
    ("aly", "alley"),
    ("arc", "arcade"),
    ("esp", "esplanade"),
    ("expy", "expressway"),
    ("expwy", "expressway"),
    ("fwy", "freeway"),
    ("mwy", "motorway"),
    ("gdn", "garden"),
    ("gdns", "gardens"),
    ("hts", "heights"),
    ("jct", "junction"),
    ("plz", "plaza"),
    ("plza", "plaza"),
    ("prom", "promenade"),
    ("rdg", "ridge"),
    ("rdge", "ridge"),
    ("rte", "route"),
    ("tpke", "turnpike"),
    ("trl", "trail"),
    ("wy", "way"),
    ("cv", "cove"),
    ("pt", "point"),
    ("pk", "park"),
    ("bch", "beach"),
    ("bnd", "bend"),
    ("brg", "bridge"),
    ("brk", "brook"),
    ("byp", "bypass"),
    ("cswy", "causeway"),
    ("ctr", "center"),
    ("cnr", "corner"),
    ("crst", "crest"),
    ("ctyd", "courtyard"),
    ("gln", "glen"),
    ("grn", "green"),
    ("hl", "hill"),
    ("lk", "lake"),
    ("lndg", "landing"),
    ("mdw", "meadow"),
    ("mnr", "manor"),
    ("orch", "orchard"),
    ("psge", "passage"),
    ("qy", "quay"),
    ("sta", "station"),
    ("trk", "track"),
    ("vw", "view"),
    ("vly", "valley"),
    ("wlk", "walk"),
    ("wk", "walk"),
    ("xing", "crossing"),
    ("app", "approach"),
    ("bwlk", "boardwalk"),
    ("crcs", "circus"),
    ("gte", "gate"),
    ("gwy", "gateway"),
    ("lp", "loop"),
    ("rmbl", "ramble"),
    ("rtt", "retreat"),
    ("vsta", "vista"),
    ("ent", "entrance"),
    ("rdwy", "roadway"),
];

const DIRECTIONS: &[(&str, &str)] = &[
    ("n", "north"),
    ("nth", "north"),
    ("s", "south"),
    ("sth", "south"),
    ("e", "east"),
    ("w", "west"),
    ("ne", "northeast"),
    ("nw", "northwest"),
    ("se", "southeast"),
    ("sw", "southwest"),
];

/// Unit designators (the abbreviation side; full words map to themselves).
const UNITS: &[(&str, &str)] = &[
    ("apt", "apartment"),
    ("apmt", "apartment"),
    ("ste", "suite"),
    ("fl", "floor"),
    ("flr", "floor"),
    ("lvl", "level"),
    ("lev", "level"),
    ("u", "unit"),
    ("rm", "room"),
    ("bldg", "building"),
    ("dept", "department"),
    ("flt", "flat"),
    ("shp", "shop"),
    ("tnhs", "townhouse"),
    ("vlla", "villa"),
    ("ofc", "office"),
];

/// Designators whose number belongs with the house number ("unit 3, 12
/// Main St" and "3/12 Main St" both give number "3 12").
const UNIT_WORDS: &[&str] = &[
    "unit",
    "apartment",
    "flat",
    "suite",
    "shop",
    "villa",
    "townhouse",
    "lot",
    "room",
];

static STREET_ABBREV: LazyLock<FxHashMap<&'static str, &'static str>> = LazyLock::new(|| {
    STREET_TYPES
        .iter()
        .chain(DIRECTIONS)
        .chain(UNITS)
        .copied()
        .collect()
});

/// Words after which "st" is "street", not "saint": anything the table
/// knows (types, directions, units) and their expansions.
static STREET_WORDS: LazyLock<rustc_hash::FxHashSet<&'static str>> = LazyLock::new(|| {
    STREET_TYPES
        .iter()
        .chain(DIRECTIONS)
        .chain(UNITS)
        .flat_map(|(a, b)| [*a, *b])
        .chain(["street", "st"])
        .collect()
});

fn starts_with_digit(t: &str) -> bool {
    t.as_bytes().first().is_some_and(u8::is_ascii_digit)
}

/// Expand one folded token; `next` is the following token, if any.
fn expand<'a>(tok: &'a str, next: Option<&str>) -> &'a str {
    if tok == "st" {
        // "St Kilda Rd" is Saint Kilda; "Main St", "Main St N", "Main St Apt 4" are streets.
        return match next {
            Some(n) if !starts_with_digit(n) && !STREET_WORDS.contains(n) => "saint",
            _ => "street",
        };
    }
    STREET_ABBREV.get(tok).copied().unwrap_or(tok)
}

/// fold(), then expand street-type, direction and unit abbreviations token
/// by token ("12 St Kilda Rd" -> "12 saint kilda road", "5 Main St NW Apt
/// 4" -> "5 main street northwest apartment 4", "P.O. Box 9" -> "po box 9").
/// Ordinals stay ("1st"). Output: space-joined tokens.
pub fn normalize_street(s: &str) -> String {
    let folded = fold(s);
    expand_all(&folded).join(" ")
}

/// The tokens of [`normalize_street`], borrowed from `folded` or the tables.
fn expand_all(folded: &str) -> Vec<&str> {
    let toks: Vec<&str> = folded.split(' ').filter(|t| !t.is_empty()).collect();
    let mut out = Vec::with_capacity(toks.len());
    let mut i = 0;
    while i < toks.len() {
        let t = toks[i];
        let next = toks.get(i + 1).copied();
        // "p o box", "pobox", "post office box", "pob" -> "po box"
        if t == "p" && next == Some("o") {
            out.push("po");
            i += 2;
            continue;
        }
        if t == "post" && next == Some("office") && toks.get(i + 2) == Some(&"box") {
            out.push("po");
            i += 2;
            continue;
        }
        if t == "pobox" || t == "pob" {
            out.extend(["po", "box"]);
            i += 1;
            continue;
        }
        out.push(expand(t, next));
        i += 1;
    }
    out
}

/// A house or unit number token: digits, optionally followed by one letter
/// ("12", "12a"), but not an ordinal ("1st").
fn is_house_number(t: &str) -> bool {
    let b = t.as_bytes();
    let digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    digits > 0 && (b.len() == digits || (b.len() == digits + 1 && b[digits].is_ascii_alphabetic()))
}

/// Split a street line into its house number and the normalised street:
/// "12 Main St" -> ("12", "main street"), "Unit 3, 12 Main St" and
/// "3/12 Main St" -> ("3 12", "main street"), "12 Main St Apt 4" ->
/// ("4 12", "main street"), "12 A Main St" -> ("12a", "main street").
pub fn split_street(s: &str) -> (Option<String>, Option<String>) {
    let folded = fold(s);
    let toks = expand_all(&folded);
    let mut start = 0;
    let mut end = toks.len();
    let mut number: Vec<String> = Vec::new();

    // trailing "apartment 4"
    if end >= 3 && UNIT_WORDS.contains(&toks[end - 2]) && is_house_number(toks[end - 1]) {
        number.push(toks[end - 1].to_owned());
        end -= 2;
    }
    // leading "unit 3"
    if end - start >= 3 && UNIT_WORDS.contains(&toks[start]) && is_house_number(toks[start + 1]) {
        number.push(toks[start + 1].to_owned());
        start += 2;
    }
    // house numbers ("12", "12 14", "12a", "12 a")
    while start < end && is_house_number(toks[start]) {
        let mut n = toks[start].to_owned();
        start += 1;
        let letter = start < end
            && toks[start].len() == 1
            && toks[start].as_bytes()[0].is_ascii_alphabetic();
        if letter && n.bytes().all(|c| c.is_ascii_digit()) && end - start > 1 {
            n.push_str(toks[start]);
            start += 1;
        }
        number.push(n);
    }
    let number = (!number.is_empty()).then(|| number.join(" "));
    let street = (start < end).then(|| toks[start..end].join(" "));
    (number, street)
}

/// Uppercase, remove spaces, dashes and other punctuation; a US ZIP+4
/// becomes its 5-digit ZIP, and leading zeros lost by spreadsheets are
/// restored for US (5 digits) and AU (4 digits). `country` is ISO alpha-2
/// or "" (unknown). `None` for empty or junk ("N/A", "0000", "XXXX").
pub fn normalize_postcode(s: &str, country: &str) -> Option<String> {
    let mut out: String = s
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if out.is_empty() || out.len() > 10 {
        return None;
    }
    if matches!(
        out.as_str(),
        "NA" | "NONE" | "NULL" | "NIL" | "UNKNOWN" | "TBA" | "TBC" | "UNK"
    ) || out.bytes().all(|b| b == b'0')
        || out.bytes().all(|b| b == b'X')
    {
        return None;
    }
    let digits_only = out.bytes().all(|b| b.is_ascii_digit());
    let width = match country.trim().to_ascii_uppercase().as_str() {
        "US" => {
            if digits_only && out.len() == 9 {
                out.truncate(5);
            }
            5
        }
        "AU" => 4,
        _ => 0,
    };
    if digits_only && out.len() >= 3 && out.len() < width {
        out.insert_str(0, &"0".repeat(width - out.len()));
    }
    Some(out)
}

const COUNTRIES: &[(&str, &[&str])] = &[
    ("AU", &["australia", "aus", "commonwealth of australia"]),
    ("NZ", &["new zealand", "nzl", "aotearoa"]),
    (
        "GB",
        &[
            "united kingdom",
            "uk",
            "gbr",
            "great britain",
            "britain",
            "england",
            "scotland",
            "wales",
            "northern ireland",
            "united kingdom of great britain and northern ireland",
        ],
    ),
    (
        "US",
        &[
            "united states",
            "united states of america",
            "usa",
            "america",
            "us of a",
        ],
    ),
    ("CA", &["canada", "can"]),
    ("IE", &["ireland", "republic of ireland", "eire", "irl"]),
    ("FR", &["france", "fra"]),
    ("DE", &["germany", "deutschland", "deu", "ger"]),
    ("IT", &["italy", "italia", "ita"]),
    ("ES", &["spain", "espana", "esp"]),
    ("PT", &["portugal", "prt"]),
    ("NL", &["netherlands", "the netherlands", "holland", "nld"]),
    ("BE", &["belgium", "bel", "belgique"]),
    ("CH", &["switzerland", "che", "schweiz", "suisse"]),
    ("AT", &["austria", "aut", "osterreich"]),
    ("SE", &["sweden", "swe"]),
    ("NO", &["norway", "nor"]),
    ("DK", &["denmark", "dnk"]),
    ("FI", &["finland", "fin"]),
    ("IS", &["iceland", "isl"]),
    ("PL", &["poland", "pol", "polska"]),
    ("CZ", &["czech republic", "czechia", "cze"]),
    ("HU", &["hungary", "hun"]),
    ("GR", &["greece", "grc"]),
    ("RO", &["romania", "rou"]),
    ("HR", &["croatia", "hrv"]),
    ("RS", &["serbia", "srb"]),
    ("UA", &["ukraine", "ukr"]),
    ("RU", &["russia", "russian federation", "rus"]),
    ("TR", &["turkey", "turkiye", "tur"]),
    ("IL", &["israel", "isr"]),
    ("AE", &["united arab emirates", "uae", "are"]),
    ("SA", &["saudi arabia", "sau"]),
    ("EG", &["egypt", "egy"]),
    ("ZA", &["south africa", "zaf", "rsa"]),
    ("NG", &["nigeria", "nga"]),
    ("KE", &["kenya", "ken"]),
    ("IN", &["india", "ind"]),
    ("PK", &["pakistan", "pak"]),
    ("BD", &["bangladesh", "bgd"]),
    ("LK", &["sri lanka", "lka"]),
    ("NP", &["nepal", "npl"]),
    ("CN", &["china", "peoples republic of china", "prc", "chn"]),
    ("HK", &["hong kong", "hkg"]),
    ("TW", &["taiwan", "twn"]),
    ("JP", &["japan", "jpn"]),
    ("KR", &["south korea", "korea", "republic of korea", "kor"]),
    ("SG", &["singapore", "sgp"]),
    ("MY", &["malaysia", "mys"]),
    ("ID", &["indonesia", "idn"]),
    ("TH", &["thailand", "tha"]),
    ("VN", &["vietnam", "viet nam", "vnm"]),
    ("PH", &["philippines", "phl"]),
    ("MX", &["mexico", "mex"]),
    ("BR", &["brazil", "brasil", "bra"]),
    ("AR", &["argentina", "arg"]),
    ("CL", &["chile", "chl"]),
    ("CO", &["colombia", "col"]),
    ("PE", &["peru", "per"]),
    ("FJ", &["fiji", "fji"]),
    ("PG", &["papua new guinea", "png"]),
    ("WS", &["samoa", "wsm"]),
    ("TO", &["tonga", "ton"]),
    ("LB", &["lebanon", "lbn"]),
    ("IR", &["iran", "irn"]),
    ("IQ", &["iraq", "irq"]),
    ("MT", &["malta", "mlt"]),
    ("CY", &["cyprus", "cyp"]),
    ("LU", &["luxembourg", "lux"]),
];

static COUNTRY_MAP: LazyLock<FxHashMap<&'static str, &'static str>> = LazyLock::new(|| {
    COUNTRIES
        .iter()
        .flat_map(|(code, names)| names.iter().map(move |n| (*n, *code)))
        .collect()
});

/// "n s w" (from "N.S.W.") -> "nsw"; other text unchanged.
fn join_initials(folded: String) -> String {
    if folded.contains(' ') && folded.split(' ').all(|t| t.len() == 1) {
        folded.split(' ').collect()
    } else {
        folded
    }
}

/// Map a country name or code to ISO 3166-1 alpha-2, uppercase:
/// "Australia"/"AUS"/"au" -> "AU", "United Kingdom"/"UK"/"GB"/"England" ->
/// "GB", "USA"/"United States"/"U.S.A." -> "US". Any other two-letter code
/// known to the phone-number metadata is accepted as is. `None` if unknown
/// or empty.
pub fn normalize_country(s: &str) -> Option<String> {
    let key = join_initials(fold(s));
    if key.is_empty() {
        return None;
    }
    if let Some(code) = COUNTRY_MAP.get(key.as_str()) {
        return Some((*code).to_owned());
    }
    if key.len() == 2 && key.bytes().all(|b| b.is_ascii_lowercase()) {
        let up = key.to_ascii_uppercase();
        if up.parse::<phonenumber::country::Id>().is_ok() {
            return Some(up);
        }
    }
    None
}

const REGIONS: &[(&str, &str)] = &[
    // Australia
    ("new south wales", "nsw"),
    ("victoria", "vic"),
    ("queensland", "qld"),
    ("south australia", "sa"),
    ("western australia", "wa"),
    ("tasmania", "tas"),
    ("northern territory", "nt"),
    ("australian capital territory", "act"),
    // United States
    ("alabama", "al"),
    ("alaska", "ak"),
    ("arizona", "az"),
    ("arkansas", "ar"),
    ("california", "ca"),
    ("colorado", "co"),
    ("connecticut", "ct"),
    ("delaware", "de"),
    ("florida", "fl"),
    ("georgia", "ga"),
    ("hawaii", "hi"),
    ("idaho", "id"),
    ("illinois", "il"),
    ("indiana", "in"),
    ("iowa", "ia"),
    ("kansas", "ks"),
    ("kentucky", "ky"),
    ("louisiana", "la"),
    ("maine", "me"),
    ("maryland", "md"),
    ("massachusetts", "ma"),
    ("michigan", "mi"),
    ("minnesota", "mn"),
    ("mississippi", "ms"),
    ("missouri", "mo"),
    ("montana", "mt"),
    ("nebraska", "ne"),
    ("nevada", "nv"),
    ("new hampshire", "nh"),
    ("new jersey", "nj"),
    ("new mexico", "nm"),
    ("new york", "ny"),
    ("north carolina", "nc"),
    ("north dakota", "nd"),
    ("ohio", "oh"),
    ("oklahoma", "ok"),
    ("oregon", "or"),
    ("pennsylvania", "pa"),
    ("rhode island", "ri"),
    ("south carolina", "sc"),
    ("south dakota", "sd"),
    ("tennessee", "tn"),
    ("texas", "tx"),
    ("utah", "ut"),
    ("vermont", "vt"),
    ("virginia", "va"),
    ("washington", "wa"),
    ("west virginia", "wv"),
    ("wisconsin", "wi"),
    ("wyoming", "wy"),
    ("district of columbia", "dc"),
    ("washington dc", "dc"),
    ("puerto rico", "pr"),
    ("guam", "gu"),
    ("us virgin islands", "vi"),
    ("american samoa", "as"),
    ("northern mariana islands", "mp"),
    // Canada
    ("ontario", "on"),
    ("quebec", "qc"),
    ("british columbia", "bc"),
    ("alberta", "ab"),
    ("manitoba", "mb"),
    ("saskatchewan", "sk"),
    ("nova scotia", "ns"),
    ("new brunswick", "nb"),
    ("newfoundland and labrador", "nl"),
    ("newfoundland", "nl"),
    ("prince edward island", "pe"),
    ("northwest territories", "nt"),
    ("yukon", "yt"),
    ("yukon territory", "yt"),
    ("nunavut", "nu"),
];

static REGION_MAP: LazyLock<FxHashMap<&'static str, &'static str>> =
    LazyLock::new(|| REGIONS.iter().copied().collect());

/// fold(), then map full state/province names to their usual abbreviation
/// for Australia ("new south wales" -> "nsw"), the US (50 states, DC and
/// territories) and Canada; other text is returned folded ("N.S.W." ->
/// "nsw"). `None` if empty.
pub fn normalize_region(s: &str) -> Option<String> {
    let key = join_initials(fold(s));
    if key.is_empty() {
        return None;
    }
    match REGION_MAP.get(key.as_str()) {
        Some(abbr) => Some((*abbr).to_owned()),
        None => Some(key),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn streets() {
        assert_eq!(normalize_street("12 Wallaby Pl"), "12 wallaby place");
        assert_eq!(normalize_street("12 St Kilda Rd"), "12 saint kilda road");
        assert_eq!(
            normalize_street("5 Main St NW Apt 4"),
            "5 main street northwest apartment 4"
        );
        assert_eq!(normalize_street("5 Main St."), "5 main street");
        assert_eq!(normalize_street("5 Main St N"), "5 main street north");
        assert_eq!(normalize_street("St John St"), "saint john street");
        assert_eq!(normalize_street("10 1st Ave"), "10 1st avenue");
        assert_eq!(
            normalize_street("3/12 Smith-Jones Cres"),
            "3 12 smith jones crescent"
        );
        assert_eq!(normalize_street("P.O. Box 9"), "po box 9");
        assert_eq!(normalize_street("PO Box 9"), "po box 9");
        assert_eq!(normalize_street("Post Office Box 9"), "po box 9");
        assert_eq!(
            normalize_street("Lvl 3, 100 George St"),
            "level 3 100 george street"
        );
        assert_eq!(
            normalize_street("1 Mt Pleasant Hwy"),
            "1 mount pleasant highway"
        );
        assert_eq!(normalize_street("22 Acacia Avenue"), "22 acacia avenue");
        assert_eq!(normalize_street(""), "");
        assert_eq!(normalize_street(" ,; "), "");
    }

    #[test]
    fn street_split() {
        let s = |x: &str| split_street(x);
        let some = |a: &str, b: &str| (Some(a.to_owned()), Some(b.to_owned()));
        assert_eq!(s("12 Main St"), some("12", "main street"));
        assert_eq!(s("12a Main St"), some("12a", "main street"));
        assert_eq!(s("12 A Main St"), some("12a", "main street"));
        assert_eq!(s("Unit 3, 12 Main St"), some("3 12", "main street"));
        assert_eq!(s("U 3 12 Main St"), some("3 12", "main street"));
        assert_eq!(s("3/12 Main St"), some("3 12", "main street"));
        assert_eq!(s("12 Main St Apt 4"), some("4 12", "main street"));
        assert_eq!(s("12-14 Main St"), some("12 14", "main street"));
        assert_eq!(s("1st Avenue"), (None, Some("1st avenue".to_owned())));
        assert_eq!(s("PO Box 12"), (None, Some("po box 12".to_owned())));
        assert_eq!(s("12"), (Some("12".to_owned()), None));
        assert_eq!(s(""), (None, None));
        assert_eq!(s("Unit 4"), (None, Some("unit 4".to_owned())));
    }

    #[test]
    fn postcodes() {
        assert_eq!(normalize_postcode("2119", "AU").as_deref(), Some("2119"));
        assert_eq!(normalize_postcode("800", "AU").as_deref(), Some("0800"));
        assert_eq!(
            normalize_postcode("sw1a 1aa", "GB").as_deref(),
            Some("SW1A1AA")
        );
        assert_eq!(
            normalize_postcode("k1a-0b1", "CA").as_deref(),
            Some("K1A0B1")
        );
        assert_eq!(
            normalize_postcode("12345-6789", "US").as_deref(),
            Some("12345")
        );
        assert_eq!(normalize_postcode("2134", "US").as_deref(), Some("02134"));
        assert_eq!(
            normalize_postcode("12345-6789", "").as_deref(),
            Some("123456789")
        );
        assert_eq!(normalize_postcode("", "AU"), None);
        assert_eq!(normalize_postcode(" - ", "AU"), None);
        assert_eq!(normalize_postcode("N/A", "AU"), None);
        assert_eq!(normalize_postcode("0000", "AU"), None);
        assert_eq!(normalize_postcode("xxxx", ""), None);
        assert_eq!(normalize_postcode("123456789012", ""), None);
    }

    #[test]
    fn countries() {
        for (input, code) in [
            ("Australia", "AU"),
            ("AUS", "AU"),
            ("au", "AU"),
            (" United Kingdom ", "GB"),
            ("UK", "GB"),
            ("U.K.", "GB"),
            ("GB", "GB"),
            ("England", "GB"),
            ("USA", "US"),
            ("U.S.A.", "US"),
            ("United States of America", "US"),
            ("us", "US"),
            ("New Zealand", "NZ"),
            ("Deutschland", "DE"),
            ("España", "ES"),
            ("Viet Nam", "VN"),
            ("ZW", "ZW"),
        ] {
            assert_eq!(normalize_country(input).as_deref(), Some(code), "{input}");
        }
        assert_eq!(normalize_country(""), None);
        assert_eq!(normalize_country("Atlantis"), None);
        assert_eq!(normalize_country("ZZ"), None);
    }

    #[test]
    fn regions() {
        assert_eq!(normalize_region("New South Wales").as_deref(), Some("nsw"));
        assert_eq!(normalize_region("NSW").as_deref(), Some("nsw"));
        assert_eq!(normalize_region("N.S.W.").as_deref(), Some("nsw"));
        assert_eq!(normalize_region("Queensland").as_deref(), Some("qld"));
        assert_eq!(normalize_region("California").as_deref(), Some("ca"));
        assert_eq!(normalize_region("west virginia").as_deref(), Some("wv"));
        assert_eq!(normalize_region("Québec").as_deref(), Some("qc"));
        assert_eq!(
            normalize_region("Greater London").as_deref(),
            Some("greater london")
        );
        assert_eq!(normalize_region(" "), None);
    }

    proptest! {
        #[test]
        fn never_panics(s in any::<String>(), c in "[A-Z]{0,2}") {
            let _ = normalize_street(&s);
            let _ = split_street(&s);
            let _ = normalize_postcode(&s, &c);
            let _ = normalize_country(&s);
            let _ = normalize_region(&s);
        }

        #[test]
        fn street_normalisation_is_idempotent(s in "[0-9A-Za-z ./,-]{0,40}") {
            let once = normalize_street(&s);
            prop_assert_eq!(normalize_street(&once), once.clone());
        }
    }
}
