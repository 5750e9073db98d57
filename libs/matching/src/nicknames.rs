//! Given names that are the same person's name: English diminutives and common forms from
//! other languages. Each group is one name; two names in a group are equivalent.
use std::collections::HashMap;
use std::sync::OnceLock;

const GROUPS: &[&[&str]] = &[
    &["robert", "rob", "robbie", "bob", "bobby", "bert", "roberto"],
    &[
        "william",
        "will",
        "bill",
        "billy",
        "willie",
        "liam",
        "wilhelm",
        "guillaume",
        "guillermo",
    ],
    &[
        "richard", "rich", "rick", "ricky", "dick", "richie", "ricardo",
    ],
    &[
        "elizabeth",
        "liz",
        "lizzie",
        "beth",
        "betty",
        "eliza",
        "libby",
        "bess",
        "elisabeth",
        "isabel",
        "elspeth",
    ],
    &[
        "margaret",
        "maggie",
        "meg",
        "peggy",
        "marge",
        "margo",
        "greta",
        "rita",
        "margarita",
    ],
    &[
        "katherine",
        "catherine",
        "kate",
        "katie",
        "kathy",
        "cathy",
        "kath",
        "kitty",
        "caterina",
        "katarzyna",
        "kasia",
    ],
    &[
        "james", "jim", "jimmy", "jamie", "seamus", "diego", "jaime", "giacomo",
    ],
    &[
        "john", "jack", "johnny", "jon", "sean", "shaun", "ian", "juan", "giovanni", "johann",
        "hans", "jan", "ivan", "joao",
    ],
    &["jonathan", "jon", "jonny", "nathan"],
    &[
        "michael", "mike", "mick", "mickey", "mikey", "miguel", "michele", "mikhail", "misha",
    ],
    &["thomas", "tom", "tommy", "tomas", "tomasz"],
    &["anthony", "tony", "antonio", "anton", "antoni"],
    &[
        "joseph", "joe", "joey", "jose", "giuseppe", "josef", "jozef", "pepe",
    ],
    &["edward", "ed", "eddie", "ted", "teddy", "ned", "eduardo"],
    &[
        "alexander",
        "alex",
        "alec",
        "sandy",
        "sasha",
        "alejandro",
        "alessandro",
        "aleksander",
    ],
    &["alexandra", "alex", "sandra", "sasha", "alessandra"],
    &["christopher", "chris", "kit", "christoph", "cristobal"],
    &[
        "christine",
        "chris",
        "christina",
        "tina",
        "kristina",
        "kirsty",
    ],
    &["daniel", "dan", "danny"],
    &["david", "dave", "davey", "dai", "dafydd"],
    &[
        "stephen", "steven", "steve", "stevie", "esteban", "stefan", "stephan",
    ],
    &["matthew", "matt", "matty", "mateo", "matteo", "mathieu"],
    &[
        "andrew", "andy", "drew", "andreas", "andres", "andrea", "andrzej",
    ],
    &["peter", "pete", "pedro", "pietro", "pierre", "piotr"],
    &["patrick", "pat", "paddy", "patricio"],
    &["patricia", "pat", "patty", "trish", "tricia"],
    &["susan", "sue", "susie", "suzanne", "susanna"],
    &["deborah", "debbie", "deb", "debra"],
    &["rebecca", "becky", "becca"],
    &["jennifer", "jenny", "jen", "jenna"],
    &["victoria", "vicky", "vicki", "tori"],
    &["samuel", "sam", "sammy"],
    &["samantha", "sam", "sammy"],
    &["benjamin", "ben", "benny"],
    &[
        "nicholas", "nick", "nicky", "nicolas", "nikolai", "niklas", "klaus",
    ],
    &[
        "charles", "charlie", "chuck", "carlos", "carlo", "karl", "karol",
    ],
    &[
        "francis",
        "frank",
        "francesco",
        "francisco",
        "paco",
        "franz",
        "frans",
        "francois",
    ],
    &["frances", "fran", "francesca", "francisca"],
    &[
        "henry", "harry", "hal", "hank", "enrique", "heinrich", "henri",
    ],
    &[
        "mary", "molly", "polly", "maria", "marie", "maureen", "mariam", "maryam", "miriam",
    ],
    &["ann", "anne", "anna", "annie", "hannah", "anita", "nan"],
    &[
        "mohammed", "muhammad", "mohammad", "mohamed", "mohamad", "muhammed", "mehmet",
    ],
    &["abdul", "abdullah", "abdallah"],
    &["gareth", "gary"],
    &["gerald", "gerry", "jerry", "gerard"],
    &["lawrence", "laurence", "larry", "lorenzo", "laurent"],
    &["leonard", "len", "lenny", "leo", "leonardo"],
    &["timothy", "tim", "timmy"],
    &["kenneth", "ken", "kenny"],
    &["donald", "don", "donny"],
    &["ronald", "ron", "ronnie"],
    &["raymond", "ray"],
    &["philip", "phil", "felipe", "filip", "philippe"],
    &["gregory", "greg"],
    &["jeffrey", "geoffrey", "jeff", "geoff"],
    &["terence", "terry"],
    &["dorothy", "dot", "dolly", "dottie"],
    &["helen", "ellen", "nell", "elena", "helena", "ellie", "lena"],
    &["eleanor", "ellie", "nora", "elle", "leonor"],
    &["josephine", "jo", "josie", "josefina"],
    &["caroline", "carol", "carrie", "carolina"],
    &["jacqueline", "jackie", "jacqui"],
    &["theresa", "teresa", "terri", "tess", "tessa"],
    &["olga", "olya"],
    &["dmitri", "dmitry", "dima"],
    &["yusuf", "yousef", "youssef", "joseph"],
    &["ibrahim", "abraham", "abe"],
    &["sulaiman", "suleiman", "solomon"],
    &["wojciech", "wojtek"],
    &["malgorzata", "gosia", "margaret"],
];

fn index() -> &'static HashMap<&'static str, Vec<u16>> {
    static INDEX: OnceLock<HashMap<&'static str, Vec<u16>>> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut m: HashMap<&'static str, Vec<u16>> = HashMap::new();
        for (i, g) in GROUPS.iter().enumerate() {
            for name in *g {
                m.entry(name).or_default().push(i as u16);
            }
        }
        m
    })
}

/// Whether two folded given names are forms of one name.
pub fn equivalent(a: &str, b: &str) -> bool {
    if a == b {
        return false;
    }
    let idx = index();
    match (idx.get(a), idx.get(b)) {
        (Some(x), Some(y)) => x.iter().any(|g| y.contains(g)),
        _ => false,
    }
}

/// Whether `a` is an initial, or a slightly misspelt form, of a name in one of `b`'s groups
/// ("E" / "Liz" via Elizabeth; "Jeznnifer" / "Jenny" via Jennifer).
pub fn loosely_equivalent(a: &str, b: &str) -> bool {
    let idx = index();
    let Some(groups) = idx.get(b) else {
        return false;
    };
    groups
        .iter()
        .filter_map(|g| GROUPS.get(usize::from(*g)))
        .flat_map(|g| g.iter())
        .any(|name| {
            if a.chars().count() == 1 {
                name.starts_with(a)
            } else {
                strsim::jaro_winkler(a, name) >= 0.92
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diminutives_and_other_languages_match() {
        assert!(equivalent("bob", "robert"));
        assert!(equivalent("giuseppe", "joseph"));
        assert!(equivalent("muhammad", "mohammed"));
        assert!(!equivalent("robert", "richard"));
        assert!(!equivalent("robert", "robert"));
    }

    #[test]
    fn initials_and_typos_reach_a_nickname_through_its_group() {
        assert!(loosely_equivalent("e", "liz"));
        assert!(loosely_equivalent("jeznnifer", "jenny"));
        assert!(!loosely_equivalent("m", "liz"));
    }
}
