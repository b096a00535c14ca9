//! Rule files written for other scanners: gitleaks TOML (RE2 regexes, path-only rules, every
//! allowlist form, `[extend]`, `skipReport`) and kingfisher / Nosey Parker YAML packs (extended-
//! mode patterns, examples), each loaded as is and run through the engine.

use std::fmt::Write as _;
use std::ops::ControlFlow;

use layerleak::detect::{check_examples, DetectOptions, Detector, Match, RuleSet, Scratch};

fn detector(set: &RuleSet) -> Detector {
    Detector::new(set, DetectOptions::default()).expect("detector")
}

/// The ids of the rules that fire on `text` in a file named `name`, each with its secret.
fn found(d: &Detector, name: &str, text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut sink = |m: Match| {
        out.push((d.rules()[m.rule].id.clone(), String::from_utf8_lossy(&m.secret).into_owned()));
        ControlFlow::Continue(())
    };
    let outcome = d.scan_bytes(name.as_bytes(), text.as_bytes(), &mut Scratch::new(), &mut sink);
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    out
}

fn toml(text: &str) -> RuleSet {
    let (set, report) = RuleSet::load_toml(text, "test.toml").expect("loads");
    assert!(report.refused.is_empty(), "{:?}", report.refused);
    set
}

/// A synthetic token of the shape the test rules look for.
const TOKEN: &str = "zq_Xk93LmPq7Rt2Vw8Yb4Nc6Hd1Fg5Js0";

#[test]
fn re2_only_syntax_loads_translated_and_matches_as_gitleaks_means() {
    let text = r#"
[[rules]]
id = "templated-token"
description = "a token outside {{ templates }}"
regex = '''zq_[A-Za-z0-9]{30}'''
keywords = ["zq_"]
[[rules.allowlists]]
regexTarget = "line"
regexes = ['''['"]?\$?{{[^}]+}}['"]?''']

[[rules]]
id = "octal-and-space"
regex = '''k\075\s(\w{12})\z'''
keywords = ["k="]
"#;
    let (set, report) = RuleSet::load_toml(text, "test.toml").unwrap();
    let translated: Vec<&str> = report.translated.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(translated, ["templated-token", "octal-and-space"]);
    assert!(report.translated[0].1.contains(&"literal `{`"), "{:?}", report.translated);
    let d = detector(&set);
    assert_eq!(found(&d, "a.env", &format!("T={TOKEN}\n")), [("templated-token".into(), TOKEN.into())]);
    assert!(found(&d, "a.env", &format!("T={TOKEN} # {{{{ .Values.t }}}}\n")).is_empty());
    assert_eq!(found(&d, "b", "k= Ab3dEf6hIj9k").len(), 1);
    assert!(found(&d, "b", "k=\x0BAb3dEf6hIj9k").is_empty(), "RE2's \\s has no vertical tab");
}

#[test]
fn a_path_only_rule_reports_the_file_by_its_content_digest() {
    let set = toml("[[rules]]\nid='keystore'\ndescription='a PKCS#12 file'\npath='''(?i)\\.p(?:12|fx)$'''\n");
    let d = detector(&set);
    let a = found(&d, "etc/ssl/app.p12", "binary keystore bytes");
    let b = found(&d, "opt/copy.PFX", "binary keystore bytes");
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].0, "keystore");
    assert!(a[0].1.starts_with("sha256:") && a[0].1.len() == 7 + 64, "{a:?}");
    assert_eq!(a[0].1, b[0].1, "the same content is the same secret");
    assert_ne!(a[0].1, found(&d, "x.p12", "other bytes")[0].1);
    assert!(found(&d, "etc/ssl/app.pem", "binary keystore bytes").is_empty());
}

#[test]
fn every_allowlist_form_drops_what_it_names() {
    let rule = "[[rules]]\nid='t'\nregex='''(?:tok|key)=(zq_[A-Za-z0-9]{30})'''\nkeywords=['zq_']\n";
    let line = format!("tok={TOKEN} # fixture\n");
    for (allowlist, dropped) in [
        ("regexes=['''Fg5Js0$''']", true),
        ("regexTarget='match'\nregexes=['''^tok=''']", true),
        ("regexTarget='secret'\nregexes=['''^tok=''']", false),
        ("regexTarget='line'\nregexes=['''# fixture''']", true),
        ("stopwords=['LMPQ7']", true),
        ("paths=['''^test/''']", true),
        ("commits=['0123abc']", false),
        ("condition='AND'\nstopwords=['lmpq7']\npaths=['''^src/''']", false),
        ("condition='AND'\nstopwords=['lmpq7']\npaths=['''^test/''']", true),
        ("condition='OR'\nstopwords=['nothere']\npaths=['''^test/''']", true),
    ] {
        let per_rule = toml(&format!("{rule}[[rules.allowlists]]\n{allowlist}\n"));
        let global = toml(&format!("{rule}[[allowlists]]\n{allowlist}\n"));
        for set in [per_rule, global] {
            let hits = found(&detector(&set), "test/app.env", &line);
            assert_eq!(hits.is_empty(), dropped, "{allowlist}: {hits:?}");
        }
    }
}

#[test]
fn a_file_wide_allowlist_applies_only_to_its_target_rules() {
    let rules = "[[rules]]\nid='t'\nregex='''tok=(zq_[A-Za-z0-9]{30})'''\nkeywords=['zq_']\n\
                 [[rules]]\nid='u'\nregex='''tok=(zq_[A-Za-z0-9]{30})'''\nkeywords=['zq_']\n";
    let line = format!("tok={TOKEN}\n");
    let ids = |set: &RuleSet| -> Vec<String> {
        found(&detector(set), "app.env", &line).into_iter().map(|(id, _)| id).collect()
    };
    let targeted = toml(&format!("{rules}[[allowlists]]\ntargetRules=['u']\nstopwords=['lmpq7']\n"));
    assert_eq!(ids(&targeted), ["t"], "only u's finding is dropped");
    let everyone = toml(&format!("{rules}[[allowlists]]\nstopwords=['lmpq7']\n"));
    assert!(ids(&everyone).is_empty(), "no targetRules: every rule");
    // A rule's own allowlist has no targetRules in gitleaks: the key is ignored (and linted).
    let own = toml(&format!("{rules}[[rules.allowlists]]\ntargetRules=['t']\nstopwords=['lmpq7']\n"));
    assert_eq!(ids(&own), ["t"], "u's own allowlist drops u's finding whatever it targets");
}

#[test]
fn secret_group_entropy_and_tags_are_read() {
    let set = toml(
        "[[rules]]\nid='g'\nregex='''(user)=(\\w{16})'''\nsecretGroup=2\nentropy=3.5\ntags=['a','b']\nkeywords=['user=']\n",
    );
    assert_eq!(set.rules()[0].tags, ["a", "b"]);
    let d = detector(&set);
    assert_eq!(found(&d, "f", "user=Xk93LmPq7Rt2Vw8Y"), [("g".into(), "Xk93LmPq7Rt2Vw8Y".into())]);
    assert!(found(&d, "f", "user=aaaabbbbaaaabbbb").is_empty(), "below the entropy floor");
}

#[test]
fn extend_disables_builtin_rules_and_names_its_base() {
    let text = "[extend]\nuseDefault=true\npath='base.toml'\ndisabledRules=['github-pat','aws-access-key-id']\n[[rules]]\nid='mine'\nregex='''zq_[A-Za-z0-9]{30}'''\n";
    let (user, report) = RuleSet::load_toml(text, "t.toml").unwrap();
    assert_eq!(report.extends.as_deref(), Some("base.toml"));
    let mut set = RuleSet::builtin();
    let before = set.rules().len();
    set.extend(user).unwrap();
    assert!(set.rules().iter().all(|r| r.id != "github-pat" && r.id != "aws-access-key-id"));
    assert_eq!(set.rules().len(), before - 2 + 1);
}

#[test]
fn a_skip_report_rule_runs_but_reports_nothing() {
    let set = toml("[[rules]]\nid='quiet'\nregex='''zq_[A-Za-z0-9]{30}'''\nskipReport=true\n[rules.examples]\npositive=['zq_Xk93LmPq7Rt2Vw8Yb4Nc6Hd1Fg5Js0']\n");
    assert!(set.rules()[0].hidden);
    assert!(found(&detector(&set), "f", TOKEN).is_empty());
    assert_eq!(check_examples(&set, false).unwrap().failures, [], "its examples still run");
}

#[test]
fn a_rule_without_keywords_gets_the_literals_its_matches_hold() {
    let set = toml("[[rules]]\nid='k'\nregex='''(?i)\\b(?:zqtok|zqkey)_[a-z0-9]{8}\\b'''\n");
    assert_eq!(set.rules()[0].keywords, ["zqkey_", "zqtok_"]);
    assert_eq!(found(&detector(&set), "f", "x ZQTOK_ab12cd34 y").len(), 1);
}

const PACK: &str = r#"
rules:
  - name: Example Service Token
    id: example.token.1
    pattern: |
      (?x)
      \b
      (
        zq_            # the prefix
        [A-Za-z0-9]{30}
      )
      \b
    min_entropy: 3.0
    confidence: medium
    examples:
      - 'TOKEN=zq_Xk93LmPq7Rt2Vw8Yb4Nc6Hd1Fg5Js0'
    negative_examples:
      - 'TOKEN=zq_short'
    references:
      - https://example.com/docs
  - name: Example Key Pair
    id: example.key.1
    pattern: '(?xi) key \h* [=:] \h* ([a-f0-9]{32}) (?: [ ;] | $ )'
    visible: false
    examples:
      - 'KEY = 8f3a9c2e71b4d05f6a9e3c7b2d18f40e'
    depends_on_rule:
      - rule_id: example.token.1
        variable: TOKEN
  - name: Possessive Where Equivalent
    id: example.possessive.1
    pattern: 'pk_[a-z]++_([0-9]{10})'
    examples:
      - 'pk_live_8305917264'
    pattern_requirements:
      ignore_if_contains:
        - "9876543210"
    negative_examples:
      - 'pk_live_9876543210'
"#;

#[test]
fn a_yaml_pack_loads_and_proves_itself_on_its_examples() {
    let (set, report) = RuleSet::load_yaml(PACK, "pack.yml").unwrap();
    assert!(report.refused.is_empty(), "{:?}", report.refused);
    let ids: Vec<&str> = set.rules().iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["example.token.1", "example.key.1", "example.possessive.1"]);
    let token = &set.rules()[0];
    assert_eq!((token.title.as_str(), token.min_entropy), ("Example Service Token", Some(3.0)));
    assert_eq!(token.tags, ["confidence:medium"]);
    assert_eq!(token.keywords, ["zq_"]);
    assert!(set.rules()[1].hidden, "visible: false");
    let examples = check_examples(&set, false).unwrap();
    assert_eq!((examples.positives, examples.negatives), (3, 2));
    assert_eq!(examples.failures, []);
    let d = detector(&set);
    assert_eq!(found(&d, "f", &format!("x {TOKEN} y")), [("example.token.1".into(), TOKEN.into())]);
    assert!(found(&d, "f", "KEY = 8f3a9c2e71b4d05f6a9e3c7b2d18f40e").is_empty(), "hidden");
}

#[test]
fn a_yaml_rule_the_engine_cannot_express_is_refused_with_the_construct() {
    let pack = "rules:\n  - id: a\n    name: A\n    pattern: 'tok_(?=[0-9])\\w+'\n  - id: b\n    name: B\n    pattern: 'zq_[a-z]{8}'\n";
    let (set, report) = RuleSet::load_yaml(pack, "p.yml").unwrap();
    assert_eq!(set.rules().len(), 1);
    assert_eq!(report.refused.len(), 1);
    assert_eq!(report.refused[0].rule, "a");
    assert_eq!(report.refused[0].message, "regex: look-ahead (?=…) at byte 4");
    assert!(RuleSet::load_yaml("rules:\n  - &a {id: x}\n  - *a\n", "p.yml").is_err(), "aliases");
}

/// `n` rules of distinct synthetic services, as a YAML pack and as a gitleaks file.
fn generated(n: usize) -> (String, String) {
    let (mut yaml, mut toml) = (String::from("rules:\n"), String::new());
    for i in 0..n {
        let prefix = format!("s{i:04}x");
        let _ = writeln!(
            yaml,
            "  - name: Service {i}\n    id: gen.{i}\n    pattern: |\n      (?x)\n      \\b ( {prefix}_ [A-Za-z0-9]{{24}} ) \\b  # token\n    min_entropy: 3.0\n    examples:\n      - '{prefix}_Xk93LmPq7Rt2Vw8Yb4Nc6Hd1'"
        );
        let _ = writeln!(
            toml,
            "[[rules]]\nid = 'gen-{i}'\nregex = '''(?i)service{i:04}x[\\w.-]{{0,20}}\\s*=\\s*['\"]?([a-z0-9]{{32}})'''\nkeywords = ['service{i:04}x']\n"
        );
    }
    (yaml, toml)
}

#[test]
fn a_thousand_rule_pack_and_a_thousand_rule_gitleaks_file_load() {
    let (yaml, toml_text) = generated(1000);
    let (pack, report) = RuleSet::load_yaml(&yaml, "gen.yml").unwrap();
    assert_eq!((pack.rules().len(), report.refused.len()), (1000, 0));
    assert!(pack.rules().iter().all(|r| r.keywords.len() == 1), "every rule has a derived keyword");
    let (file, report) = RuleSet::load_toml(&toml_text, "gen.toml").unwrap();
    assert_eq!((file.rules().len(), report.refused.len()), (1000, 0));
    let mut both = pack.clone();
    both.extend(file).unwrap();
    let d = detector(&both);
    let hits = found(
        &d,
        "f",
        "a s0777x_Xk93LmPq7Rt2Vw8Yb4Nc6Hd1 b\nSERVICE0042X_KEY = '8f3a9c2e71b4d05f6a9e3c7b2d18f40e'\n",
    );
    let ids: Vec<&str> = hits.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, ["gen.777", "gen-42"]);
    assert_eq!(check_examples(&pack, false).unwrap().failures, []);
}

#[test]
fn without_secret_group_the_secret_is_the_first_group_that_took_part() {
    // As gitleaks reads it: a regex of alternatives, each with its own group, reports either.
    let set = toml(
        "[[rules]]\nid='alt'\nregex='''zqa=([a-z0-9]{12})|\\b(ZQB_[A-Z0-9]{12})\\b'''\nkeywords=['zqa=','zqb_']\n",
    );
    let d = detector(&set);
    assert_eq!(found(&d, "f", "zqa=k3m9x2p7q4w8"), [("alt".into(), "k3m9x2p7q4w8".into())]);
    assert_eq!(found(&d, "f", "x ZQB_K3M9X2P7Q4W8 y"), [("alt".into(), "ZQB_K3M9X2P7Q4W8".into())]);
}

#[test]
fn a_composite_rule_reports_only_near_what_it_requires() {
    let text =
        "[[rules]]\nid='zq-user'\nregex='''zquser=(\\w{4,})'''\nkeywords=['zquser=']\nskipReport=true\n\
                [[rules]]\nid='zq-pass'\nregex='''zqpass=(\\w{12})'''\nkeywords=['zqpass=']\n\
                [[rules.required]]\nid='zq-user'\nwithinLines=1\n";
    let set = toml(text);
    assert_eq!(set.rules()[1].required[0].within_lines, Some(1));
    let d = detector(&set);
    let near = found(&d, "f", "zquser=alice\nzqpass=k3m9x2p7q4w8\n");
    assert_eq!(near, [("zq-pass".into(), "k3m9x2p7q4w8".into())], "the required rule is hidden");
    assert!(found(&d, "f", "zquser=alice\n\n\nzqpass=k3m9x2p7q4w8\n").is_empty(), "three lines apart");
    assert!(found(&d, "f", "zqpass=k3m9x2p7q4w8\n").is_empty(), "nothing required near");
    let columns = toml(&text.replace("withinLines=1", "withinColumns=0"));
    let d = detector(&columns);
    assert_eq!(found(&d, "f", "zquser=alice\n\n\nzqpass=k3m9x2p7q4w8\n").len(), 1, "same column");
    assert!(found(&d, "f", "zquser=alice\n  zqpass=k3m9x2p7q4w8\n").is_empty(), "two columns off");
    let orphan = toml("[[rules]]\nid='a'\nregex='''zqa=\\w+'''\n[[rules.required]]\nid='nope'\n");
    let err = Detector::new(&orphan, DetectOptions::default()).expect_err("unknown required rule");
    assert!(err.to_string().contains("\"nope\""), "{err}");
}
