//! Place and contact data for the generator: localities (mostly Australian
//! suburbs and towns with their state and postcode, plus a few in New
//! Zealand, the UK and the US), street names and types with their usual
//! abbreviations, region names, and e-mail providers.
//!
//! Written for Kindred; postcodes are close to the real ones so that
//! locality, region and postcode agree the way they do in real data.

/// A country the generator places people in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Country {
    Au,
    Nz,
    Gb,
    Us,
}

impl Country {
    /// ISO 3166 alpha-2 code.
    pub fn code(self) -> &'static str {
        match self {
            Country::Au => "AU",
            Country::Nz => "NZ",
            Country::Gb => "GB",
            Country::Us => "US",
        }
    }

    /// Other ways sources write the country.
    pub fn variants(self) -> &'static [&'static str] {
        match self {
            Country::Au => &["Australia", "AUS", "AU"],
            Country::Nz => &["New Zealand", "NZL", "NZ"],
            Country::Gb => &["United Kingdom", "UK", "GB"],
            Country::Us => &["United States", "USA", "US"],
        }
    }

    /// International calling code.
    pub fn calling_code(self) -> &'static str {
        match self {
            Country::Au => "61",
            Country::Nz => "64",
            Country::Gb => "44",
            Country::Us => "1",
        }
    }
}

/// A locality: name, region (abbreviated), postcode (or postcode stem),
/// country, relative weight.
#[derive(Debug, PartialEq, Eq)]
pub struct Locality {
    pub name: &'static str,
    pub region: &'static str,
    pub postcode: &'static str,
    pub country: Country,
    pub weight: u32,
}

const fn au(
    name: &'static str,
    region: &'static str,
    postcode: &'static str,
    weight: u32,
) -> Locality {
    Locality {
        name,
        region,
        postcode,
        country: Country::Au,
        weight,
    }
}

const fn other(
    name: &'static str,
    region: &'static str,
    postcode: &'static str,
    country: Country,
) -> Locality {
    Locality {
        name,
        region,
        postcode,
        country,
        weight: 1,
    }
}

/// Australian localities (weights roughly follow population).
pub const AU_LOCALITIES: &[Locality] = &[
    au("Sydney", "NSW", "2000", 4),
    au("Parramatta", "NSW", "2150", 4),
    au("Bondi", "NSW", "2026", 2),
    au("Bondi Junction", "NSW", "2022", 2),
    au("Manly", "NSW", "2095", 2),
    au("Chatswood", "NSW", "2067", 3),
    au("Blacktown", "NSW", "2148", 4),
    au("Penrith", "NSW", "2750", 3),
    au("Liverpool", "NSW", "2170", 4),
    au("Campbelltown", "NSW", "2560", 3),
    au("Hornsby", "NSW", "2077", 2),
    au("Castle Hill", "NSW", "2154", 3),
    au("Bankstown", "NSW", "2200", 3),
    au("Hurstville", "NSW", "2220", 3),
    au("Cronulla", "NSW", "2230", 2),
    au("Newtown", "NSW", "2042", 2),
    au("Surry Hills", "NSW", "2010", 2),
    au("Randwick", "NSW", "2031", 2),
    au("Marrickville", "NSW", "2204", 2),
    au("Ryde", "NSW", "2112", 2),
    au("Epping", "NSW", "2121", 2),
    au("Strathfield", "NSW", "2135", 2),
    au("Auburn", "NSW", "2144", 2),
    au("Fairfield", "NSW", "2165", 2),
    au("Cabramatta", "NSW", "2166", 2),
    au("Mosman", "NSW", "2088", 1),
    au("Dee Why", "NSW", "2099", 2),
    au("Richmond", "NSW", "2753", 1),
    au("Newcastle", "NSW", "2300", 3),
    au("Maitland", "NSW", "2320", 2),
    au("Wollongong", "NSW", "2500", 3),
    au("Gosford", "NSW", "2250", 2),
    au("Wagga Wagga", "NSW", "2650", 1),
    au("Albury", "NSW", "2640", 1),
    au("Dubbo", "NSW", "2830", 1),
    au("Orange", "NSW", "2800", 1),
    au("Bathurst", "NSW", "2795", 1),
    au("Tamworth", "NSW", "2340", 1),
    au("Port Macquarie", "NSW", "2444", 1),
    au("Coffs Harbour", "NSW", "2450", 1),
    au("Lismore", "NSW", "2480", 1),
    au("Byron Bay", "NSW", "2481", 1),
    au("Queanbeyan", "NSW", "2620", 1),
    au("Goulburn", "NSW", "2580", 1),
    au("Nowra", "NSW", "2541", 1),
    au("Katoomba", "NSW", "2780", 1),
    au("Canberra", "ACT", "2601", 2),
    au("Belconnen", "ACT", "2617", 1),
    au("Woden", "ACT", "2606", 1),
    au("Tuggeranong", "ACT", "2900", 1),
    au("Gungahlin", "ACT", "2912", 1),
    au("Braddon", "ACT", "2612", 1),
    au("Melbourne", "VIC", "3000", 4),
    au("Carlton", "VIC", "3053", 2),
    au("Fitzroy", "VIC", "3065", 2),
    au("Richmond", "VIC", "3121", 2),
    au("St Kilda", "VIC", "3182", 2),
    au("South Yarra", "VIC", "3141", 2),
    au("Brunswick", "VIC", "3056", 2),
    au("Footscray", "VIC", "3011", 2),
    au("Box Hill", "VIC", "3128", 2),
    au("Dandenong", "VIC", "3175", 3),
    au("Frankston", "VIC", "3199", 3),
    au("Glen Waverley", "VIC", "3150", 2),
    au("Doncaster", "VIC", "3108", 2),
    au("Ringwood", "VIC", "3134", 2),
    au("Sunshine", "VIC", "3020", 2),
    au("Werribee", "VIC", "3030", 3),
    au("Craigieburn", "VIC", "3064", 2),
    au("Epping", "VIC", "3076", 2),
    au("Preston", "VIC", "3072", 2),
    au("Coburg", "VIC", "3058", 2),
    au("Hawthorn", "VIC", "3122", 2),
    au("Camberwell", "VIC", "3124", 2),
    au("Brighton", "VIC", "3186", 2),
    au("Cheltenham", "VIC", "3192", 1),
    au("Geelong", "VIC", "3220", 3),
    au("Ballarat", "VIC", "3350", 2),
    au("Bendigo", "VIC", "3550", 2),
    au("Shepparton", "VIC", "3630", 1),
    au("Mildura", "VIC", "3500", 1),
    au("Wodonga", "VIC", "3690", 1),
    au("Warrnambool", "VIC", "3280", 1),
    au("Traralgon", "VIC", "3844", 1),
    au("Brisbane", "QLD", "4000", 3),
    au("Fortitude Valley", "QLD", "4006", 1),
    au("South Brisbane", "QLD", "4101", 2),
    au("Toowong", "QLD", "4066", 1),
    au("Indooroopilly", "QLD", "4068", 1),
    au("Chermside", "QLD", "4032", 2),
    au("Carindale", "QLD", "4152", 1),
    au("Logan Central", "QLD", "4114", 2),
    au("Ipswich", "QLD", "4305", 2),
    au("Springfield", "QLD", "4300", 1),
    au("Redcliffe", "QLD", "4020", 1),
    au("Brighton", "QLD", "4017", 1),
    au("Southport", "QLD", "4215", 2),
    au("Surfers Paradise", "QLD", "4217", 1),
    au("Robina", "QLD", "4226", 1),
    au("Maroochydore", "QLD", "4558", 1),
    au("Noosa Heads", "QLD", "4567", 1),
    au("Caloundra", "QLD", "4551", 1),
    au("Toowoomba", "QLD", "4350", 2),
    au("Bundaberg", "QLD", "4670", 1),
    au("Rockhampton", "QLD", "4700", 1),
    au("Mackay", "QLD", "4740", 1),
    au("Townsville", "QLD", "4810", 2),
    au("Cairns", "QLD", "4870", 2),
    au("Gladstone", "QLD", "4680", 1),
    au("Hervey Bay", "QLD", "4655", 1),
    au("Adelaide", "SA", "5000", 3),
    au("North Adelaide", "SA", "5006", 1),
    au("Glenelg", "SA", "5045", 1),
    au("Norwood", "SA", "5067", 1),
    au("Unley", "SA", "5061", 1),
    au("Prospect", "SA", "5082", 1),
    au("Salisbury", "SA", "5108", 2),
    au("Elizabeth", "SA", "5112", 1),
    au("Modbury", "SA", "5092", 1),
    au("Marion", "SA", "5043", 1),
    au("Port Adelaide", "SA", "5015", 1),
    au("Mount Gambier", "SA", "5290", 1),
    au("Whyalla", "SA", "5600", 1),
    au("Perth", "WA", "6000", 3),
    au("Fremantle", "WA", "6160", 2),
    au("Subiaco", "WA", "6008", 1),
    au("Joondalup", "WA", "6027", 2),
    au("Scarborough", "WA", "6019", 1),
    au("Cottesloe", "WA", "6011", 1),
    au("Midland", "WA", "6056", 1),
    au("Armadale", "WA", "6112", 1),
    au("Rockingham", "WA", "6168", 2),
    au("Mandurah", "WA", "6210", 1),
    au("Cannington", "WA", "6107", 1),
    au("Morley", "WA", "6062", 1),
    au("Bunbury", "WA", "6230", 1),
    au("Geraldton", "WA", "6530", 1),
    au("Kalgoorlie", "WA", "6430", 1),
    au("Albany", "WA", "6330", 1),
    au("Broome", "WA", "6725", 1),
    au("Hobart", "TAS", "7000", 2),
    au("Sandy Bay", "TAS", "7005", 1),
    au("Glenorchy", "TAS", "7010", 1),
    au("Kingston", "TAS", "7050", 1),
    au("Launceston", "TAS", "7250", 1),
    au("Devonport", "TAS", "7310", 1),
    au("Burnie", "TAS", "7320", 1),
    au("Darwin", "NT", "0800", 1),
    au("Palmerston", "NT", "0830", 1),
    au("Casuarina", "NT", "0810", 1),
    au("Alice Springs", "NT", "0870", 1),
];

/// New Zealand localities.
pub const NZ_LOCALITIES: &[Locality] = &[
    other("Auckland", "Auckland", "1010", Country::Nz),
    other("Wellington", "Wellington", "6011", Country::Nz),
    other("Christchurch", "Canterbury", "8011", Country::Nz),
    other("Hamilton", "Waikato", "3204", Country::Nz),
    other("Tauranga", "Bay of Plenty", "3110", Country::Nz),
    other("Dunedin", "Otago", "9016", Country::Nz),
];

/// UK localities; the postcode is the outward code (an inward code is added).
pub const GB_LOCALITIES: &[Locality] = &[
    other("London", "Greater London", "SW1A", Country::Gb),
    other("London", "Greater London", "N1", Country::Gb),
    other("Manchester", "Greater Manchester", "M1", Country::Gb),
    other("Birmingham", "West Midlands", "B1", Country::Gb),
    other("Leeds", "West Yorkshire", "LS1", Country::Gb),
    other("Glasgow", "Scotland", "G1", Country::Gb),
    other("Edinburgh", "Scotland", "EH1", Country::Gb),
    other("Bristol", "Bristol", "BS1", Country::Gb),
    other("Liverpool", "Merseyside", "L1", Country::Gb),
    other("Cardiff", "Wales", "CF10", Country::Gb),
    other("Belfast", "Northern Ireland", "BT1", Country::Gb),
];

/// US localities; the postcode is a ZIP code stem (two digits are added).
pub const US_LOCALITIES: &[Locality] = &[
    other("New York", "NY", "100", Country::Us),
    other("Los Angeles", "CA", "900", Country::Us),
    other("Chicago", "IL", "606", Country::Us),
    other("Houston", "TX", "770", Country::Us),
    other("Seattle", "WA", "981", Country::Us),
    other("Boston", "MA", "021", Country::Us),
    other("San Francisco", "CA", "941", Country::Us),
    other("Austin", "TX", "787", Country::Us),
    other("Denver", "CO", "802", Country::Us),
    other("Miami", "FL", "331", Country::Us),
];

/// Full names of abbreviated regions (sources sometimes spell them out).
pub fn region_full(region: &str) -> Option<&'static str> {
    Some(match region {
        "NSW" => "New South Wales",
        "VIC" => "Victoria",
        "QLD" => "Queensland",
        "SA" => "South Australia",
        "WA" => "Western Australia",
        "TAS" => "Tasmania",
        "NT" => "Northern Territory",
        "ACT" => "Australian Capital Territory",
        "NY" => "New York",
        "CA" => "California",
        "IL" => "Illinois",
        "TX" => "Texas",
        "MA" => "Massachusetts",
        "CO" => "Colorado",
        "FL" => "Florida",
        _ => return None,
    })
}

/// Australian landline area code (one digit after the trunk 0) by state.
pub fn au_area_code(region: &str) -> u8 {
    match region {
        "NSW" | "ACT" => 2,
        "VIC" | "TAS" => 3,
        "QLD" => 7,
        _ => 8,
    }
}

/// Street names.
pub const STREETS: &str = "\
High,Church,Station,Victoria,George,King,Queen,Elizabeth,William,Albert,Park,Main,Bridge,Hill,\
Mill,School,Railway,Pitt,Macquarie,Oxford,Bourke,Collins,Flinders,Swanston,Chapel,Beach,Ocean,\
Harbour,Bay,River,Lake,Forest,Wattle,Acacia,Banksia,Jacaranda,Waratah,Grevillea,Boronia,\
Kookaburra,Rosella,Magpie,Lorikeet,Mountain,Valley,Cedar,Oak,Elm,Pine,Maple,Willow,Birch,Ash,\
Poplar,Myrtle,Laurel,Rose,Lavender,Heather,Jasmine,Orchid,Lily,Daisy,Violet,Camellia,Magnolia,\
Gardenia,Anzac,Federation,Commonwealth,Endeavour,Cook,Phillip,Hume,Sturt,Bass,Mitchell,Lawson,\
Wentworth,Blaxland,Banks,Hunter,Bligh,Darling,Forbes,Lachlan,Murray,Hawkesbury,Nepean,Princes,\
Pacific,Great Western,Old Northern,Pennant Hills,Military,Parramatta,Canterbury,Liverpool,\
Botany,Smith,Brown,Wilson,Taylor,Johnston,Campbell,Stewart,Grey,Sydney,Melbourne,\
Adelaide,Brisbane,Hobart,Darwin,Perth,Canning,Stirling,Hay,Gouger,Rundle,Grote,\
Ann,Wickham,Boundary,Sandgate,Gympie,Logan,Ipswich,Moggill,Coronation,Jubilee,\
Regent,Cambridge,Windsor,Stanley,Edward,Charles,Frederick,Marion,Grange,Greenhill,\
Glen Osmond,Portrush,Fullarton,Unley,Goodwood,Hampton,Nicholson,Lygon,Brunswick,\
Gertrude,Rathdowne,Dandenong,Burwood,Toorak,\
Riversdale,Whitehorse,Maroondah,Springvale,Ferntree Gully,Waverley,Warrigal,Koornang,Centre,\
North,South,East,West,Ridge,Valley View,Sunset,Sunrise,Seaview,Bayview,Hillcrest,Fairview,\
Ocean View,Panorama,Highland,Kingsway,Queensway,Short,Long,Wide,Market,Union,\
Albion,Alma,Balmoral,Belmore,Carrington,Clarence,Denison,Dudley,Fitzroy,Gladstone,Kent,Lennox,\
Lyons,Melville,Nelson,Newcastle,Palmer,Raglan,Russell,Salisbury,Tennyson,Wellington,York";

/// Street types: full form, abbreviation, relative weight.
pub const STREET_TYPES: &[(&str, &str, u32)] = &[
    ("Street", "St", 35),
    ("Road", "Rd", 20),
    ("Avenue", "Ave", 12),
    ("Drive", "Dr", 8),
    ("Court", "Ct", 6),
    ("Place", "Pl", 6),
    ("Crescent", "Cres", 5),
    ("Parade", "Pde", 3),
    ("Lane", "Ln", 2),
    ("Close", "Cl", 3),
    ("Terrace", "Tce", 2),
    ("Way", "Wy", 3),
    ("Boulevard", "Blvd", 1),
    ("Highway", "Hwy", 1),
    ("Circuit", "Cct", 2),
    ("Grove", "Gr", 2),
    ("Esplanade", "Esp", 1),
];

/// E-mail providers with relative weights (Australian mix).
pub const EMAIL_PROVIDERS: &[(&str, u32)] = &[
    ("gmail.com", 35),
    ("hotmail.com", 10),
    ("outlook.com", 8),
    ("yahoo.com", 5),
    ("yahoo.com.au", 4),
    ("bigpond.com", 8),
    ("bigpond.net.au", 2),
    ("icloud.com", 7),
    ("optusnet.com.au", 3),
    ("live.com.au", 2),
    ("iinet.net.au", 2),
    ("tpg.com.au", 2),
    ("internode.on.net", 1),
    ("protonmail.com", 1),
    ("me.com", 1),
];

/// Made-up company domains (work e-mail addresses).
pub const COMPANY_DOMAINS: &[&str] = &[
    "harbourlogistics.com.au",
    "southerncrossmining.com.au",
    "wattleconsulting.com.au",
    "bluegumhealth.org.au",
    "redgumbuilders.com.au",
    "coastalcouncil.nsw.gov.au",
    "outbacktrading.com",
    "kangaroovalleyfarms.com.au",
    "silverwattle.edu.au",
    "tasmanfreight.com",
    "ironbarklegal.com.au",
    "coralreefinsurance.com.au",
];

/// Providers used by people living outside Australia.
pub fn foreign_providers(country: Country) -> &'static [&'static str] {
    match country {
        Country::Nz => &[
            "gmail.com",
            "xtra.co.nz",
            "hotmail.com",
            "outlook.com",
            "icloud.com",
        ],
        Country::Gb => &[
            "gmail.com",
            "btinternet.com",
            "sky.com",
            "hotmail.co.uk",
            "yahoo.co.uk",
        ],
        _ => &[
            "gmail.com",
            "aol.com",
            "comcast.net",
            "yahoo.com",
            "outlook.com",
        ],
    }
}

/// Placeholder values entered when the real one was not given; shared by
/// unrelated people in a small fraction of records.
pub const GENERIC_EMAILS: &[&str] = &[
    "test@test.com",
    "noemail@noemail.com",
    "none@none.com",
    "a@a.com",
    "no@email.com",
];

/// Placeholder phone numbers.
pub const GENERIC_PHONES: &[&str] = &["0000000000", "0400000000", "0411111111", "1234567890"];

/// Placeholder dates of birth.
pub const GENERIC_DOBS: &[(u16, u8, u8)] = &[(1900, 1, 1), (1901, 1, 1), (1970, 1, 1)];
