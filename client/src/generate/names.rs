//! Name data for the generator: given-name pools (male and female, roughly
//! in order of popularity), family names (roughly in order of frequency, so
//! a Zipf-like weighting by rank gives realistic repetition), nicknames,
//! interchangeable spellings a call-centre agent might type, and a few very
//! common full names that deliberately recur among different people.
//!
//! Everything here was written for Kindred; the lists are comma-separated so
//! that names containing spaces or apostrophes stay readable.

/// Male given names, most popular first.
pub const MALE_GIVEN: &str = "\
John,David,Michael,Peter,James,Robert,Paul,Andrew,Mark,Christopher,Stephen,Daniel,Matthew,\
William,Richard,Anthony,Thomas,Joshua,Benjamin,Jason,Brian,Kevin,Ian,Gary,Steven,Scott,Craig,\
Ryan,Nicholas,Adam,Luke,Jack,Samuel,Alexander,Timothy,Jonathan,Brett,Shane,Wayne,Darren,Glenn,\
Geoffrey,Gregory,Kenneth,Raymond,Ronald,Donald,Graham,Keith,Trevor,Colin,Barry,Neil,Alan,Allan,\
Terence,Dennis,Patrick,Joseph,Edward,Charles,George,Henry,Frank,Francis,Philip,Phillip,Leonard,\
Lawrence,Douglas,Bruce,Malcolm,Stuart,Stewart,Gordon,Russell,Rodney,Warren,Dean,Troy,Nathan,\
Aaron,Justin,Bradley,Cameron,Mitchell,Dylan,Liam,Noah,Oliver,Ethan,Lachlan,Harrison,Cooper,\
Jacob,Zachary,Tyler,Jordan,Blake,Riley,Max,Maxwell,Oscar,Leo,Hudson,Charlie,Archie,Harry,Lucas,\
Mason,Isaac,Hunter,Jayden,Connor,Kyle,Jake,Callum,Declan,Kieran,Sean,Shaun,Brendan,Damien,\
Dominic,Vincent,Victor,Walter,Albert,Alfred,Arthur,Harold,Herbert,Norman,Stanley,Leslie,\
Clifford,Cyril,Reginald,Frederick,Ernest,Eric,Roy,Ross,Rex,Murray,Lindsay,Clive,Nigel,Simon,\
Martin,Jeffrey,Jeremy,Gerald,Gavin,Grant,Hamish,Angus,Fergus,Duncan,Alistair,Rhys,Owen,Evan,\
Gareth,Seamus,Ciarán,Pádraig,Eoin,Cian,Niall,Conor,Rory,Aidan,Finn,Theodore,Sebastian,Gabriel,\
Elijah,Levi,Xavier,Felix,Hugo,Jasper,Toby,Marcus,Julian,Adrian,Tristan,Caleb,Joel,Jesse,Travis,\
Corey,Todd,Carl,Karl,Kurt,Hans,Johannes,Jürgen,Klaus,Stefan,Dieter,Wolfgang,Lars,Sven,Björn,\
Søren,Anders,Nils,Jan,Pieter,Henk,Joost,Giuseppe,Giovanni,Francesco,Antonio,Salvatore,Marco,\
Luca,Matteo,Alessandro,Paolo,Domenico,Enzo,Dimitrios,Georgios,Konstantinos,Nikolaos,Ioannis,\
Spiros,Christos,José,Juan,Carlos,Luis,Miguel,Diego,Javier,Alejandro,André,João,Pedro,Rafael,\
Tiago,François,Jean-Luc,Pierre,Jérôme,Étienne,Louis,Mathieu,Piotr,Krzysztof,Tomasz,Paweł,\
Łukasz,Marek,Ivan,Dmitri,Aleksandr,Sergei,Mohammed,Muhammad,Ahmed,Ali,Omar,Hassan,Hussein,\
Ibrahim,Mustafa,Khalid,Yusuf,Tariq,Bilal,Raj,Rajesh,Sanjay,Amit,Vikram,Arjun,Rahul,Ravi,Suresh,\
Anil,Harpreet,Gurpreet,Manpreet,Wei,Jun,Hao,Ming,Jian,Lei,Tao,Yong,Kai,Hiroshi,Takeshi,Kenji,\
Minh,Tuan,Duc,Quang,Hung,Thanh,Long,Min-jun,Ji-hoon,Sung-min,Mateo,Angelo,Rocco,Emmanuel,Kwame,\
Tendai,Chinedu,Samir,Karim,Nabil,Fadi,Rami,Tane,Wiremu,Sione,Viliami,Jed,Ashley,Morgan,Lewis,\
Gilbert,Howard,Percy,Wilfred,Bernard,Desmond,Kelvin,Lyle,Neville,Royce,Marshall,Quentin,Archibald,Benedict,Montgomery";

/// Female given names, most popular first.
pub const FEMALE_GIVEN: &str = "\
Mary,Margaret,Patricia,Susan,Jennifer,Elizabeth,Sarah,Jessica,Emma,Michelle,Karen,Lisa,Helen,\
Julie,Linda,Barbara,Christine,Jacqueline,Catherine,Katherine,Kathleen,Nicole,Rebecca,Amanda,\
Melissa,Kylie,Rachel,Emily,Olivia,Charlotte,Sophie,Chloe,Hannah,Lauren,Samantha,Stephanie,\
Natalie,Danielle,Kimberly,Amy,Laura,Kate,Anna,Anne,Ann,Joanne,Deborah,Debra,Sandra,Wendy,Janet,\
Judith,Dorothy,Joan,Jean,Shirley,Beverley,Pamela,Carol,Gail,Lynette,Robyn,Cheryl,Denise,Dianne,\
Diane,Kerry,Tracey,Leanne,Belinda,Natasha,Renee,Renée,Kristy,Tanya,Sonia,Fiona,Alison,Heather,\
Gillian,Jill,Rosemary,Valerie,Maureen,Elaine,Marion,Irene,Edith,Ethel,Doris,Gladys,Mavis,\
Marjorie,Joyce,Phyllis,Betty,Nancy,Frances,Josephine,Eleanor,Alice,Grace,Ruby,Isla,Mia,Ava,\
Amelia,Isabella,Zoe,Zoë,Chloé,Matilda,Harper,Willow,Ivy,Evie,Sienna,Ella,Lily,Scarlett,Georgia,\
Madison,Abigail,Sophia,Layla,Aria,Hazel,Poppy,Evelyn,Stella,Violet,Audrey,Maddison,Madeleine,\
Jasmine,Caitlin,Brooke,Tayla,Courtney,Bianca,Alexandra,Victoria,Jade,Kayla,Ashleigh,Bethany,\
Megan,Holly,Erin,Siobhán,Niamh,Aoife,Saoirse,Róisín,Orla,Sinéad,Bridget,Maeve,Morag,Eilidh,\
Kirsty,Rhiannon,Gwen,Cerys,Heidi,Ingrid,Greta,Ursula,Sabine,Petra,Monika,Birgit,Astrid,Freya,\
Annika,Sofie,Anke,Giulia,Francesca,Maria,Rosa,Lucia,Giovanna,Antonella,Carmela,Teresa,Theresa,\
Angela,Paola,Chiara,Alessandra,Eleni,Despina,Dimitra,Katerina,Ioanna,Carmen,Isabel,Lucía,Pilar,\
Inés,Mercedes,Ana,Beatriz,Mariana,Fernanda,Gabriela,Marie,Camille,Léa,Manon,Amélie,Céline,\
Hélène,Agnieszka,Katarzyna,Małgorzata,Magdalena,Ewa,Joanna,Natalia,Olga,Tatiana,Svetlana,Irina,\
Fatima,Aisha,Mariam,Zainab,Noor,Huda,Amira,Yasmin,Leila,Priya,Anjali,Sunita,Kavita,Pooja,Neha,\
Deepa,Lakshmi,Simran,Harjit,Jaspreet,Mei,Xin,Ying,Hui,Fang,Jing,Yan,Lan,Hong,Yuki,Akiko,Keiko,\
Sakura,Linh,Thu,Mai,Huong,Hoa,Trang,Ngoc,Ji-woo,Seo-yeon,Min-ji,Penelope,Wilhelmina,Louise,\
Louisa,Lucy,Harriet,Imogen,Phoebe,Eloise,Florence,Edwina,Winifred,Agnes,Mabel,Vera,Sylvia,\
Gloria,Lorraine,Colleen,Noeline,Gwendolyn,Beryl,Muriel,Hilda,Thelma,Lois,Vanessa,Veronica,\
Monica,Andrea,Erica,Tamara,Simone,Yvonne,Suzanne,Roslyn,Lesley,Jillian,Naomi,Miriam,Esther,\
Leah,Tahlia,Ebony,Shannon,Cassandra,Cynthia,Sharon,Marilyn,Rhonda,Kathryn,Jane,Claire,Clare,\
Kelly,Vicki,Narelle,Lynne,Christina,Angie,Judy,Jenna,Nadia,Tara,Rita,Ruth,Rose,Iris,Daisy,\
Pearl,Elsie,Norma,Constance,Henrietta,Nathalie,Gabrielle,Juliette,Antoinette,Dominique";

/// Family names, most frequent first (Australian mix: British, Irish,
/// Scottish, European, Asian, Middle-Eastern, Pacific origins).
pub const FAMILY: &str = "\
Smith,Jones,Williams,Brown,Wilson,Taylor,Nguyen,Johnson,Martin,White,Anderson,Thompson,Walker,\
Lee,Harris,Ryan,Thomas,Robinson,Kelly,King,Davis,Wright,Evans,Roberts,Green,Hall,Wood,Jackson,\
Clarke,Patel,Tran,Lewis,Mitchell,Campbell,Scott,Murphy,Hughes,Edwards,Cooper,Turner,Young,\
Morris,Baker,Hill,Chen,Ward,Moore,Allen,Clark,Collins,Stewart,Morgan,Bell,Kennedy,Watson,Cook,\
Le,Wang,Li,Zhang,Singh,Phillips,Parker,James,Bennett,Price,Brennan,Walsh,O'Brien,\
O'Connor,O'Neill,Byrne,Doyle,McCarthy,Gallagher,Quinn,Fitzgerald,Sullivan,Murray,Ross,Fraser,\
Robertson,Reid,Grant,Graham,Hamilton,Gordon,Cameron,Simpson,Hunter,Marshall,Russell,Gibson,\
Mason,Ellis,Carter,Harrison,Lloyd,Griffiths,Davies,Owen,Jenkins,Powell,Rees,Lynch,\
Burke,Dunne,Nolan,Kavanagh,Keane,Kearney,Flynn,Hayes,Daly,Dwyer,Hogan,Maher,Power,Barry,Moran,\
Healy,Casey,Cullen,Fitzpatrick,Hennessy,Mahony,Malone,McGrath,McMahon,O'Sullivan,O'Donnell,\
O'Keefe,O'Reilly,O'Shea,Regan,Sheehan,Tierney,Whelan,MacDonald,McDonald,McKenzie,MacKenzie,\
McLeod,MacLeod,McKay,Mackay,McIntosh,McGregor,Macintyre,McLean,Maclean,Sinclair,Sutherland,\
Munro,Douglas,Henderson,Paterson,Ferguson,Johnston,Morrison,Kerr,Wallace,Buchanan,Crawford,\
Chapman,Hudson,Holmes,Knight,Lawrence,Mills,Palmer,Payne,Pearce,Pearson,Porter,Reynolds,\
Richards,Richardson,Rogers,Rose,Saunders,Shaw,Spencer,Stevens,Stone,Sutton,Watts,Webb,Wells,\
West,Wheeler,Williamson,Woods,Atkinson,Bailey,Barker,Barnes,Bates,Berry,Bishop,Black,Booth,\
Bradley,Brooks,Burton,Butler,Chambers,Cole,Cox,Cross,Dixon,Elliott,Ferguson-Hall,Fisher,Fletcher,\
Ford,Foster,Fox,Francis,Gardner,Gray,Grey,Griffin,Hart,Harvey,Hawkins,Hayward,Holland,Hopkins,\
Howard,Hunt,Hutchinson,Jordan,Kemp,Lane,Little,Lowe,Marsh,May,Miles,Newman,Nicholls,Nicholson,\
Norris,Page,Parsons,Perry,Pike,Potter,Randall,Read,Reed,Rice,Riley,Robson,Rowe,Sharp,Simmons,\
Slater,Stephens,Stokes,Summers,Swift,Thornton,Tucker,Vaughan,Wade,Walters,Warren,Waters,Watkins,\
Webster,Whitehead,Wilkinson,Willis,Wong,Chan,Cheung,Leung,Lam,Ho,Ng,Yip,Tang,Lau,Chow,Tan,Lim,\
Goh,Ong,Teo,Koh,Liu,Yang,Huang,Zhao,Wu,Zhou,Xu,Sun,Ma,Zhu,Hu,Guo,He,Lin,Luo,Gao,Liang,Zheng,\
Xie,Song,Tang-Wong,Han,Feng,Deng,Cao,Peng,Zeng,Xiao,Tian,Dong,Pan,Yuan,Cai,Jiang,Yu,Du,Ye,Cheng,\
Wei,Su,Lu,Ding,Ren,Shen,Yao,Pham,Hoang,Huynh,Phan,Vu,Vo,Dang,Bui,Do,Ngo,Duong,Ly,Trinh,Dinh,\
Truong,Mai,Cao-Nguyen,Luong,Ha,Kumar,Sharma,Gupta,Shah,Mehta,Reddy,Rao,Iyer,Nair,Pillai,Menon,\
Das,Chatterjee,Banerjee,Mukherjee,Bose,Joshi,Desai,Kaur,Gill,Sandhu,Sidhu,Dhillon,Grewal,\
Chopra,Malhotra,Kapoor,Verma,Agarwal,Bhatt,Chaudhary,Pandey,Mishra,Yadav,Naidu,Fernando,Perera,\
De Silva,Jayasuriya,Wickramasinghe,Bandara,Kim,Park,Choi,Jung,Kang,Cho,Yoon,Jang,Shin,Oh,Seo,\
Kwon,Hwang,Sato,Suzuki,Takahashi,Tanaka,Watanabe,Ito,Yamamoto,Nakamura,Kobayashi,Kato,Yoshida,\
Yamada,Santos,Reyes,Cruz,Bautista,Ocampo,Garcia,Mendoza,Torres,Villanueva,Ramos,Aquino,Castillo,\
Dela Cruz,De Guzman,Navarro,Soriano,Rossi,Russo,Ferrari,Esposito,Bianchi,Romano,Colombo,Ricci,\
Marino,Greco,Bruno,Gallo,Conti,De Luca,Mancini,Costa,Giordano,Rizzo,Lombardi,Moretti,Barbieri,\
Fontana,Santoro,Mariani,Rinaldi,Caruso,Ferrara,Galli,Martini,Leone,Longo,Gentile,Martinelli,\
Vitale,Lombardo,Serra,Coppola,De Santis,D'Angelo,Marchetti,Parisi,Villa,Conte,Ferraro,Ferri,\
Fabbri,Bianco,Marini,Grasso,Valentini,Messina,Sala,De Angelis,Gatti,Pellegrini,Palumbo,Sanna,\
Farina,Rizzi,Monti,Cattaneo,Morelli,Amato,Silvestri,Mazza,Testa,Grassi,Pellegrino,Carbone,\
Giuliani,Benedetti,Barone,Rossetti,Caputo,Montanari,Guerra,Palmieri,Bernardi,Martino,Fiore,\
De Rosa,Ferretti,Bellini,Basile,Riva,Donati,Piras,Vitali,Battaglia,Sartori,Neri,Costantini,\
Milani,Pagano,Ruggiero,Sorrentino,D'Amico,Orlando,Damico,Negri,Papadopoulos,Nikolaidis,\
Georgiou,Pappas,Karagiannis,Vlahos,Dimitriou,Konstantinidis,Christodoulou,Ioannou,Papadakis,\
Alexiou,Antoniou,Makris,Stavrou,Theodorou,Vasilakis,Petrakis,Kostopoulos,Athanasiou,Economou,\
Panagiotou,Tsakalos,Zervos,Müller,Schmidt,Schneider,Fischer,Weber,Meyer,Wagner,Becker,Schulz,\
Hoffmann,Schäfer,Koch,Bauer,Richter,Klein,Wolf,Schröder,Neumann,Schwarz,Zimmermann,Braun,Krüger,\
Hofmann,Hartmann,Lange,Schmitt,Werner,Schmitz,Krause,Meier,Lehmann,Schmid,Schulze,Maier,Köhler,\
Herrmann,König,Walter,Mayer,Huber,Kaiser,Fuchs,Peters,Lang,Scholz,Möller,Weiß,Jung-Becker,Hahn,\
Vogel,Friedrich,Keller,Günther,Frank,Berger,Winkler,Roth,Beck,Lorenz,Baumann,Franke,Albrecht,\
Schuster,Simon,Ludwig,Böhm,Winter,Kraus,Martin-Vogel,Schumacher,Krämer,Vogt,Stein,Jäger,Otto,\
Sommer,Groß,Seidel,Heinrich,Brandt,Haas,Schreiber,Graf,Schulte,Dietrich,Ziegler,Kuhn,Kühn,Pohl,\
Engel,Horn,Busch,Bergmann,Thomas-Busch,Voigt,Sauer,Arnold,Wolff,Pfeiffer,de Jong,Jansen,de Vries,\
van den Berg,van Dijk,Bakker,Visser,Smit,Meijer,de Boer,Mulder,de Groot,Bos,Vos,Peters-Bos,\
Hendriks,van Leeuwen,Dekker,Brouwer,de Wit,Dijkstra,Smits,de Graaf,van der Meer,van der Linden,\
Kok,Jacobs,de Haan,Vermeulen,van den Heuvel,van der Veen,van den Broek,de Bruijn,de Bruin,\
van der Heijden,Schouten,van Beek,Willems,van Vliet,van de Ven,Hoekstra,Maas,Verhoeven,Koster,\
van Dam,van der Wal,Prins,Blom,Huisman,Peeters,Janssens,Maes,Nowak,Kowalski,Wiśniewski,Wójcik,\
Kowalczyk,Kamiński,Lewandowski,Zieliński,Szymański,Woźniak,Dąbrowski,Kozłowski,Jankowski,\
Mazur,Kwiatkowski,Krawczyk,Piotrowski,Grabowski,Nowakowski,Pawłowski,Michalski,Nowicki,\
Adamczyk,Dudek,Zając,Wieczorek,Jabłoński,Król,Majewski,Olszewski,Jaworski,Wróbel,Malinowski,\
Pawlak,Witkowski,Walczak,Stępień,Górski,Rutkowski,Michalak,Sikora,Ostrowski,Baran,García,\
Rodríguez,Martínez,Hernández,López,González,Pérez,Sánchez,Ramírez,Flores,Rivera,Gómez,Díaz,\
Morales,Jiménez,Ruiz,Álvarez,Romero,Alonso,Gutiérrez,Moreno,Muñoz,Castro,Ortiz,Rubio,Marín,\
Sanz,Núñez,Iglesias,Medina,Garrido,Cortés,Castillo-Ruiz,Santos-Silva,Lozano,Guerrero,Cano,\
Prieto,Méndez,Calvo,Gallego,Vidal,León,Herrera,Márquez,Peña,Cabrera,Silva,Ferreira,Pereira,\
Oliveira,Rodrigues,Martins,Sousa,Fernandes,Gonçalves,Gomes,Lopes,Marques,Alves,Almeida,Ribeiro,\
Pinto,Carvalho,Teixeira,Moreira,Correia,Mendes,Nunes,Soares,Vieira,Monteiro,Cardoso,Rocha,\
Bernard,Dubois,Robert,Richard,Petit,Durand,Leroy,Moreau,Laurent,Lefèvre,Lefebvre,Michel,\
Fournier,Girard,Bonnet,Dupont,Lambert,Fontaine,Rousseau,Vincent,Muller,Faure,André,Mercier,\
Blanc,Guérin,Boyer,Garnier,Chevalier,François,Legrand,Gauthier,Perrin,Robin,Clément,Morin,\
Nicolas,Henry,Roussel,Mathieu,Gautier,Masson,Marchand,Duval,Denis,Dumont,Marie,Lemaire,Noël,\
Meyer-Dupont,Dufour,Meunier,Brun,Blanchard,Giraud,Joly,Rivière,Lucas,Brunet,Gaillard,Barbier,\
Arnaud,Martinez,Gérard,Roche,Renard,Schmitt-Roche,Roy,Leroux,Colin,Vidal-Roy,Caron,Picard,\
Roger,Fabre,Aubert,Lemoine,Renaud,Dumas,Lacroix,Olivier,Philippe,Bourgeois,Pierre,Benoît,\
Rey,Leclerc,Payet,Rolland,Leclercq,Guillaume,Lecomte,Johansson,Andersson,Karlsson,Nilsson,\
Eriksson,Larsson,Olsson,Persson,Svensson,Gustafsson,Pettersson,Jonsson,Jansson,Hansson,Bengtsson,\
Lindberg,Lindström,Lindqvist,Lundberg,Berglund,Larsen,Hansen,Jensen,Nielsen,Pedersen,Andersen,\
Christensen,Rasmussen,Jørgensen,Madsen,Kristensen,Olsen,Thomsen,Poulsen,Johansen,Møller,Berg,\
Haugen,Hagen,Halvorsen,Virtanen,Korhonen,Mäkinen,Nieminen,Horvat,Kovačević,Babić,Marić,\
Jovanović,Petrović,Nikolić,Popović,Đorđević,Stojanović,Marković,Ilić,Pavlović,Novak,Kovač,\
Yilmaz,Kaya,Demir,Şahin,Çelik,Öztürk,Aydın,Arslan,Doğan,Kılıç,Haddad,Khoury,Nassar,Saleh,\
Hassan,Ahmed,Ali,Mohamed,Ibrahim,Abdullah,Hussein,Rahman,Karim,Aziz,Mansour,Habib,Fakhoury,\
Daher,Khalil,Hanna,Saad,Issa,Younis,Sayed,Farah,Hamdan,Najjar,Sabbagh,Abboud,Chahine,Rizk,Tannous,\
Abdel-Malek,El-Khoury,Al-Hassan,Khan,Hussain,Iqbal,Akhtar,Mahmood,Qureshi,Malik,Chaudhry,Butt,\
Sheikh,Siddiqui,Anwar,Rashid,Hosseini,Mohammadi,Ahmadi,Rezaei,Moradi,Karimi,Jafari,Tehrani,\
Cohen,Levy,Friedman,Goldberg,Rosenberg,Katz,Shapiro,Klein-Cohen,Weiss,Kaplan,Stern,Feldman,\
Tupou,Fifita,Taufa,Vaipulu,Faleolo,Leota,Tuilagi,Ngata,Parata,Tipene,Waititi,Horomona,Ivanov,\
Smirnov,Kuznetsov,Popov,Sokolov,Lebedev,Kozlov,Novikov,Morozov,Petrov,Volkov,Solovyov,Vasiliev,\
Shevchenko,Bondarenko,Kovalenko,Tkachenko,Kravchenko,Oliynyk,Melnyk,Nagy,Tóth,Szabó,Horváth,\
Varga,Kiss,Molnár,Németh,Farkas,Balogh,Novotný,Dvořák,Svoboda,Černý,Procházka,Kučera,Popescu,\
Ionescu,Popa,Stan,Dumitru,Constantin,Georgescu,Smith-Jones,Taylor-Brown,Harris-Lee,\
Wilson-Clarke,Green-Walker,Davies-Evans,Hughes-Morgan,Jones-Parry,Scott-Hamilton,Baxter,Bird,\
Blake,Bond,Bowen,Boyd,Brady,Brennan-Hill,Bryant,Buckley,Burgess,Burns,Carr,Carroll,Cassidy,\
Chandler,Coleman,Connolly,Conway,Craig,Cunningham,Curtis,Dalton,Dawson,Day,Dean,Dennis,Doherty,\
Donnelly,Duffy,Duncan,Dunn,Eaton,Farrell,Field,Finch,Fleming,Flanagan,Foley,Fowler,French,Frost,\
Fuller,Gibbs,Gilbert,Goodwin,Gough,Hancock,Hardy,Harper,Hayden,Heath,Hewitt,Hicks,Higgins,Hobbs,\
Hodgson,Holt,Hooper,Horton,Howell,Humphries,Jarvis,Jennings,Keating,Kirby,Lamb,Lawson,Leach,\
Lord,Lucas-Ward,Lyons,Mann,Manning,Matthews,McCann,McCormack,McKenna,McLaughlin,Meehan,Moss,\
Mullins,Nash,Nelson,Newton,Noble,Norton,Oliver,Osborne,Parkes,Peacock,Perkins,Pritchard,\
Quinlan,Reilly,Ritchie,Rowley,Rush,Sanders,Schofield,Sexton,Sharpe,Short,Skinner,Sloan,Snow,\
Steele,Storey,Strong,Sweeney,Talbot,Thornhill,Todd,Townsend,Tully,Vickers,Wall,Walton,Warner,\
Weston,Whitfield,Wilkins,Winters,Wise,Wyatt,Yates,York,Kelly-Smith,Morgan-Jones,Kerr-Wilson";

/// Given-name nicknames: formal name first, then its common short forms.
/// Written for Kindred; at least one pair per line.
pub const NICKNAMES: &[(&str, &[&str])] = &[
    ("Robert", &["Bob", "Rob", "Bobby", "Robbie", "Bert"]),
    ("William", &["Bill", "Will", "Billy", "Liam", "Willy"]),
    (
        "Elizabeth",
        &["Liz", "Beth", "Betty", "Lizzie", "Libby", "Eliza"],
    ),
    ("Margaret", &["Peggy", "Maggie", "Meg", "Marge"]),
    ("Katherine", &["Kate", "Kathy", "Katie", "Kath"]),
    ("Catherine", &["Cathy", "Kate", "Cath", "Cate"]),
    ("Kathleen", &["Kath", "Kathy", "Kate"]),
    ("Kathryn", &["Kate", "Kathy"]),
    ("James", &["Jim", "Jimmy", "Jamie"]),
    ("John", &["Johnny", "Jack"]),
    ("Jonathan", &["Jon", "Jonny"]),
    ("Michael", &["Mike", "Mick", "Mikey"]),
    ("Richard", &["Rick", "Dick", "Rich", "Richie"]),
    ("Thomas", &["Tom", "Tommy"]),
    ("Christopher", &["Chris", "Kit"]),
    ("Christine", &["Chris", "Chrissy", "Tina"]),
    ("Christina", &["Tina", "Chris"]),
    ("Daniel", &["Dan", "Danny"]),
    ("David", &["Dave", "Davey"]),
    ("Anthony", &["Tony"]),
    ("Andrew", &["Andy", "Drew"]),
    ("Stephen", &["Steve", "Stevie"]),
    ("Steven", &["Steve"]),
    ("Matthew", &["Matt"]),
    ("Joseph", &["Joe", "Joey"]),
    ("Benjamin", &["Ben", "Benny"]),
    ("Samuel", &["Sam", "Sammy"]),
    ("Samantha", &["Sam", "Sammy"]),
    ("Alexander", &["Alex", "Xander", "Sandy"]),
    ("Alexandra", &["Alex", "Lexi", "Sandra"]),
    ("Edward", &["Ed", "Eddie", "Ted", "Ned"]),
    ("Patrick", &["Pat", "Paddy"]),
    ("Patricia", &["Pat", "Patty", "Trish"]),
    ("Nicholas", &["Nick", "Nicky"]),
    ("Timothy", &["Tim", "Timmy"]),
    ("Jennifer", &["Jen", "Jenny"]),
    ("Jessica", &["Jess", "Jessie"]),
    ("Rebecca", &["Becky", "Bec"]),
    ("Deborah", &["Deb", "Debbie"]),
    ("Debra", &["Deb", "Debbie"]),
    ("Susan", &["Sue", "Susie"]),
    ("Barbara", &["Barb", "Babs"]),
    ("Dorothy", &["Dot", "Dottie"]),
    ("Victoria", &["Vicky", "Tori"]),
    ("Kimberly", &["Kim"]),
    ("Gregory", &["Greg"]),
    ("Jeffrey", &["Jeff"]),
    ("Geoffrey", &["Geoff"]),
    ("Gerald", &["Gerry"]),
    ("Lawrence", &["Larry", "Laurie"]),
    ("Leonard", &["Len", "Lenny"]),
    ("Raymond", &["Ray"]),
    ("Ronald", &["Ron", "Ronnie"]),
    ("Donald", &["Don", "Donny"]),
    ("Kenneth", &["Ken", "Kenny"]),
    ("Douglas", &["Doug"]),
    ("Frederick", &["Fred", "Freddie"]),
    ("Henry", &["Harry", "Hank"]),
    ("Charles", &["Charlie", "Chuck", "Chas"]),
    ("Francis", &["Frank"]),
    ("Frances", &["Fran", "Frankie"]),
    ("Philip", &["Phil"]),
    ("Phillip", &["Phil"]),
    ("Peter", &["Pete"]),
    ("Gabriel", &["Gabe"]),
    ("Nathan", &["Nate"]),
    ("Zachary", &["Zac", "Zack"]),
    ("Jacob", &["Jake"]),
    ("Joshua", &["Josh"]),
    ("Abigail", &["Abby"]),
    ("Amanda", &["Mandy"]),
    ("Angela", &["Angie"]),
    ("Cynthia", &["Cindy"]),
    ("Eleanor", &["Ellie", "Nell"]),
    ("Helen", &["Nell"]),
    ("Isabella", &["Bella", "Izzy"]),
    ("Josephine", &["Jo", "Josie"]),
    ("Joanne", &["Jo"]),
    ("Judith", &["Judy", "Jude"]),
    ("Madeleine", &["Maddie"]),
    ("Natalie", &["Nat"]),
    ("Pamela", &["Pam"]),
    ("Penelope", &["Penny"]),
    ("Rosemary", &["Rosie"]),
    ("Sandra", &["Sandy"]),
    ("Theodore", &["Theo", "Ted"]),
    ("Terence", &["Terry"]),
    ("Teresa", &["Terri", "Tess"]),
    ("Theresa", &["Terri", "Tess"]),
    ("Vincent", &["Vince", "Vinnie"]),
    ("Walter", &["Wally"]),
    ("Wilhelmina", &["Mina", "Billie"]),
    ("Albert", &["Al", "Bert"]),
    ("Alfred", &["Alf", "Fred"]),
    ("Allan", &["Al"]),
    ("Alan", &["Al"]),
    ("Beverley", &["Bev"]),
    ("Bradley", &["Brad"]),
    ("Cameron", &["Cam"]),
    ("Clifford", &["Cliff"]),
    ("Dominic", &["Dom"]),
    ("Gillian", &["Gill", "Jill"]),
    ("Harold", &["Harry"]),
    ("Jacqueline", &["Jackie"]),
    ("Louise", &["Lou"]),
    ("Maxwell", &["Max"]),
    ("Mitchell", &["Mitch"]),
    ("Nicole", &["Nikki"]),
    ("Oliver", &["Ollie"]),
    ("Stanley", &["Stan"]),
    ("Stuart", &["Stu"]),
    ("Sebastian", &["Seb"]),
    ("Valerie", &["Val"]),
    ("Giuseppe", &["Joe", "Pino"]),
    ("Johannes", &["Hans", "Jo"]),
    ("Aleksandr", &["Sasha"]),
    ("Dmitri", &["Dima"]),
    ("Konstantinos", &["Kostas", "Con"]),
    ("Dimitrios", &["Jim", "Jimmy"]),
    ("Georgios", &["George"]),
    ("Francesco", &["Frank"]),
    ("Leslie", &["Les"]),
    ("Reginald", &["Reg"]),
    ("Norman", &["Norm"]),
    ("Herbert", &["Herb", "Bert"]),
    ("Winifred", &["Winnie"]),
    ("Gwendolyn", &["Gwen"]),
    ("Cassandra", &["Cass"]),
    ("Veronica", &["Ronnie"]),
    ("Lachlan", &["Lachie"]),
    ("Harrison", &["Harry"]),
    ("Archibald", &["Archie"]),
    ("Benedict", &["Ben"]),
    ("Montgomery", &["Monty"]),
];

/// Groups of names that sound alike and are easily written one for another
/// (used for call-centre misspellings before falling back to rules).
pub const SOUNDALIKES: &[&[&str]] = &[
    &["Catherine", "Katherine", "Kathryn", "Katharine"],
    &["Steven", "Stephen"],
    &["John", "Jon"],
    &["Sean", "Shaun", "Shawn"],
    &["Philip", "Phillip"],
    &["Ann", "Anne"],
    &["Sarah", "Sara"],
    &["Geoffrey", "Jeffrey"],
    &["Brian", "Bryan"],
    &["Alan", "Allan", "Allen"],
    &["Matthew", "Mathew"],
    &["Nicholas", "Nicolas"],
    &["Rachel", "Rachael"],
    &["Isabel", "Isobel", "Isabelle"],
    &["Thompson", "Thomson", "Tomson"],
    &["Smith", "Smyth"],
    &["Reid", "Reed", "Read"],
    &["Clarke", "Clark"],
    &["Gray", "Grey"],
    &["Neil", "Neal"],
    &["Stewart", "Stuart"],
    &["Davies", "Davis"],
    &["Phillips", "Philips"],
    &["Nguyen", "Nguen", "Ngyuen"],
    &["Mohammed", "Muhammad", "Mohamed", "Mohammad"],
    &["Lindsay", "Lindsey"],
    &["Kerry", "Kerrie"],
    &["Tracey", "Tracy"],
    &["Renee", "Renae"],
    &["Leanne", "Lee-Anne", "Leeanne"],
    &["Debra", "Deborah"],
    &["Dianne", "Diane", "Dian"],
    &["Jacqueline", "Jaqueline"],
    &["MacDonald", "McDonald"],
    &["MacKenzie", "McKenzie"],
    &["McLeod", "MacLeod"],
    &["Mackay", "McKay"],
    &["McLean", "Maclean"],
    &["Lefèvre", "Lefebvre"],
    &["de Bruijn", "de Bruin"],
    &["Kühn", "Kuhn"],
    &["Meyer", "Meier", "Mayer", "Maier"],
    &["Schmidt", "Schmitt", "Schmid"],
    &["Zoe", "Zoey"],
    &["Chloe", "Khloe"],
    &["Madison", "Maddison"],
    &["Caitlin", "Kaitlyn", "Katelyn"],
    &["Ashleigh", "Ashley"],
    &["Tayla", "Taylah"],
    &["Bridget", "Brigid"],
    &["Carl", "Karl"],
    &["Lewis", "Louis"],
    &["Teresa", "Theresa"],
    &["Lynette", "Lynnette"],
    &["Jillian", "Gillian"],
    &["Colleen", "Coleen"],
    &["Byrne", "Burn", "Byrnes"],
    &["Doyle", "Doil"],
    &["Walsh", "Welsh"],
    &["O'Neill", "O'Neil"],
    &["O'Keefe", "O'Keeffe"],
    &["Hayes", "Hays"],
];

/// Full names that recur among different, unrelated people (a small share of
/// people are given one on purpose, so that precision matters).
pub const COMMON_FULL_NAMES: &[(&str, &str, bool)] = &[
    ("John", "Smith", true),
    ("David", "Jones", true),
    ("Michael", "Smith", true),
    ("Peter", "Brown", true),
    ("James", "Wilson", true),
    ("Daniel", "Lee", true),
    ("Minh", "Nguyen", true),
    ("Wei", "Chen", true),
    ("Mohammed", "Khan", true),
    ("Raj", "Patel", true),
    ("Mary", "Smith", false),
    ("Sarah", "Williams", false),
    ("Jennifer", "Taylor", false),
    ("Jessica", "Brown", false),
    ("Emma", "Wilson", false),
    ("Linh", "Nguyen", false),
    ("Michelle", "Lee", false),
    ("Priya", "Patel", false),
];

/// Parses one of the comma-separated lists above.
pub fn parse_list(list: &'static str) -> Vec<&'static str> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

/// Nicknames of a formal given name (empty when it has none).
pub fn nicknames_of(given: &str) -> &'static [&'static str] {
    NICKNAMES
        .iter()
        .find(|(formal, _)| *formal == given)
        .map(|(_, nicks)| *nicks)
        .unwrap_or(&[])
}

/// Another spelling that sounds the same, if the name belongs to a group.
pub fn soundalikes_of(name: &str) -> Option<&'static [&'static str]> {
    SOUNDALIKES.iter().copied().find(|g| g.contains(&name))
}
