//! Certificate variables (`rtls_x509_fields`): every field of every test
//! certificate against what OpenSSL prints (tests/data/*.expect, written by
//! gen.sh with the openssl CLI), and malformed DER of every kind: an error
//! code, never a panic, never a callback.
mod common;

use std::collections::BTreeMap;
use std::os::raw::{c_char, c_int, c_void};
use std::ptr;

use common::*;
use rtls::certkey::*;
use rtls::error::rtls_result::{self, *};
use rtls::x509::*;

/// The DER of the first certificate in `<name>.pem`.
fn der(name: &str) -> Vec<u8> {
    let pem = data(&format!("{}.pem", name));
    let mut rd = &pem[..];
    let first = rustls_pemfile::certs(&mut rd).next().unwrap().unwrap();
    first.to_vec()
}

struct Collected {
    fields: Vec<(String, String)>,
    fail_at: usize,
}

unsafe extern "C" fn collect_field(
    userdata: *mut c_void,
    name: *const c_char,
    name_len: usize,
    value: *const c_char,
    value_len: usize,
) -> c_int {
    let c = &mut *(userdata as *mut Collected);
    let name = std::slice::from_raw_parts(name as *const u8, name_len);
    let value = std::slice::from_raw_parts(value as *const u8, value_len);
    c.fields.push((String::from_utf8(name.to_vec()).unwrap(), String::from_utf8(value.to_vec()).unwrap()));
    if c.fields.len() == c.fail_at {
        1
    } else {
        0
    }
}

/// rtls_x509_fields through the C interface.
fn fields_c(der: &[u8]) -> (rtls_result, Vec<(String, String)>) {
    let mut c = Collected { fields: Vec::new(), fail_at: 0 };
    let rv = rtls_x509_fields(der.as_ptr(), der.len(), Some(collect_field), &mut c as *mut Collected as *mut c_void);
    (rv, c.fields)
}

/// `<name>.expect`: NAME=value lines; `\\` is a backslash, `\n` a newline.
fn expected(name: &str) -> Vec<(String, String)> {
    let text = String::from_utf8(data(&format!("{}.expect", name))).unwrap();
    text.lines()
        .map(|line| {
            let (k, v) = line.split_at(line.find('=').unwrap());
            let mut value = String::new();
            let mut chars = v[1..].chars();
            while let Some(c) = chars.next() {
                if c != '\\' {
                    value.push(c);
                    continue;
                }
                match chars.next() {
                    Some('n') => value.push('\n'),
                    Some('\\') => value.push('\\'),
                    other => panic!("{}.expect: bad escape {:?}", name, other),
                }
            }
            (k.to_string(), value)
        })
        .collect()
}

fn expect_names() -> Vec<String> {
    let dir = format!("{}/tests/data", env!("CARGO_MANIFEST_DIR"));
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".expect") && n != "oids.expect")
        .map(|n| n.trim_end_matches(".expect").to_string())
        .collect();
    names.sort();
    names
}

/// Position of a field name in the documented order.
fn rank(name: &str) -> usize {
    let dn = |p: &str| name == p || name.starts_with(&format!("{}_", p));
    match name {
        "M_VERSION" => 0,
        "M_SERIAL" => 1,
        "V_START" => 2,
        "V_END" => 3,
        _ if dn("S_DN") => 4,
        _ if dn("I_DN") => 5,
        "A_SIG" => 6,
        "A_KEY" => 7,
        _ if name.starts_with("SAN_Email_") => 8,
        _ if name.starts_with("SAN_DNS_") => 9,
        _ if name.starts_with("SAN_OTHER_msUPN_") => 10,
        "CERT" => 11,
        _ => panic!("unknown field {}", name),
    }
}

#[test]
fn every_field_of_every_test_certificate_matches_openssl() {
    let names = expect_names();
    for must in [
        "ca", "p256", "p384", "rsa2048", "ed25519", "x509-names", "x509-tricky", "x509-legacy", "x509-san",
        "x509-exotic", "x509-v1", "x509-oids", "x509-sha1", "x509-sha512", "x509-ecdsa384", "x509-rsaca",
        "x509-edca", "x509-p384ca",
    ] {
        assert!(names.iter().any(|n| n == must), "tests/data/{}.expect missing (run gen.sh x509)", must);
    }
    for name in &names {
        let (rv, got) = fields_c(&der(name));
        assert_eq!(rv, RTLS_OK, "{}", name);
        let want: BTreeMap<String, String> = expected(name).into_iter().collect();
        let have: BTreeMap<String, String> = got.iter().cloned().collect();
        assert_eq!(have.len(), got.len(), "{}: a field was reported twice", name);
        for (k, v) in &want {
            assert_eq!(have.get(k), Some(v), "{}: {}", name, k);
        }
        for k in have.keys() {
            assert!(want.contains_key(k), "{}: unexpected field {}={:?}", name, k, have[k]);
        }
        let ranks: Vec<usize> = got.iter().map(|(k, _)| rank(k)).collect();
        assert!(ranks.windows(2).all(|w| w[0] <= w[1]), "{}: order {:?}", name, got);
        // The safe Rust entry point says the same.
        let rust: Vec<(String, String)> = cert_fields(&der(name)).unwrap().into_iter().map(|f| (f.name, f.value)).collect();
        assert_eq!(rust, got, "{}", name);
    }
}

#[test]
fn what_the_features_look_like() {
    // Spot checks, so that a broken gen.sh cannot make everything "match".
    let get = |cert: &str, field: &str| -> Option<String> {
        cert_fields(&der(cert)).unwrap().into_iter().find(|f| f.name == field).map(|f| f.value)
    };
    assert_eq!(get("x509-names", "M_VERSION").as_deref(), Some("3"));
    assert_eq!(get("x509-names", "M_SERIAL").as_deref(), Some("8FEDCBA9876543210FEDCBA9876543210FEDCBA9"));
    assert_eq!(get("x509-names", "S_DN_OU_2").as_deref(), Some("Security"));
    assert_eq!(get("x509-names", "S_DN_Email").as_deref(), Some("webmaster@example.org"));
    assert_eq!(get("x509-names", "A_SIG").as_deref(), Some("sha384WithRSAEncryption"));
    assert_eq!(get("x509-tricky", "M_SERIAL").as_deref(), Some("0A0B0C"));
    assert!(get("x509-tricky", "S_DN").unwrap().contains(r"O=Acme\, Inc. \+ Partners,L=\ spaces around\ ,ST=\#hash,C=US"));
    assert_eq!(get("x509-legacy", "S_DN").as_deref(), Some("CN=legacy.example.org,OU=東京,O=Société Générale,C=FR"));
    assert_eq!(get("x509-legacy", "A_SIG").as_deref(), Some("rsassaPss"));
    assert_eq!(get("x509-san", "SAN_DNS_3").as_deref(), Some("xn--bcher-kva.example"));
    assert_eq!(get("x509-san", "SAN_Email_1").as_deref(), Some("second@example.org"));
    assert_eq!(get("x509-san", "A_SIG").as_deref(), Some("ED25519"));
    assert_eq!(get("x509-exotic", "M_SERIAL").as_deref(), Some("-0102"));
    assert_eq!(get("x509-exotic", "V_START").as_deref(), Some("Jan  1 00:00:00 1950 GMT"));
    assert_eq!(get("x509-exotic", "V_END").as_deref(), Some("Feb 29 12:00:00.25 2052 GMT"));
    assert_eq!(get("x509-exotic", "SAN_DNS_1").as_deref(), Some("third.example"));
    assert_eq!(get("x509-exotic", "S_DN_CN"), None);
    assert_eq!(get("x509-v1", "M_VERSION").as_deref(), Some("1"));
    assert_eq!(get("x509-v1", "S_DN"), None);
    assert_eq!(get("x509-oids", "A_KEY").as_deref(), Some("UNKNOWN"));
    assert!(get("x509-oids", "M_SERIAL").unwrap().contains("\\\n"));
    assert_eq!(get("p384", "A_KEY").as_deref(), Some("id-ecPublicKey"));
    assert_eq!(get("rsa2048", "A_KEY").as_deref(), Some("rsaEncryption"));
    assert!(get("ed25519", "V_END").unwrap().ends_with(" GMT"));
    let pem = get("p256", "CERT").unwrap();
    assert_eq!(pem.as_bytes(), &data("p256.pem")[..]);
}

#[test]
fn oid_table_matches_openssl() {
    let text = String::from_utf8(data("oids.expect")).unwrap();
    let mut n = 0;
    for line in text.lines() {
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(cols.len(), 3, "{:?}", line);
        assert_eq!(oid_names(cols[0]), Some((cols[1], cols[2])), "OpenSSL names {} differently", cols[0]);
        n += 1;
    }
    assert_eq!(n, known_oids().count(), "oids.expect is stale: run gen.sh x509");
}

#[test]
fn fields_of_a_certified_key() {
    let k = key("p256");
    let (mut p, mut len) = (ptr::null(), 0usize);
    assert_eq!(rtls_certified_key_cert_der(k, 0, &mut p, &mut len), RTLS_OK);
    let der = unsafe { std::slice::from_raw_parts(p, len) };
    let (rv, got) = fields_c(der);
    assert_eq!(rv, RTLS_OK);
    assert_eq!(got, expected("p256"));
    rtls_certified_key_free(k);
}

#[test]
fn callback_failure_stops_the_calls() {
    let d = der("x509-names");
    let mut c = Collected { fields: Vec::new(), fail_at: 3 };
    let rv = rtls_x509_fields(d.as_ptr(), d.len(), Some(collect_field), &mut c as *mut Collected as *mut c_void);
    assert_eq!(rv, RTLS_IO_CALLBACK_FAILED);
    assert_eq!(c.fields.len(), 3);
}

#[test]
fn null_arguments() {
    let d = der("p256");
    assert_eq!(rtls_x509_fields(ptr::null(), 5, Some(collect_field), ptr::null_mut()), RTLS_INTERNAL_NULL_ARGUMENT);
    assert_eq!(rtls_x509_fields(d.as_ptr(), d.len(), None, ptr::null_mut()), RTLS_INTERNAL_NULL_ARGUMENT);
    let (rv, got) = fields_c(&[]);
    assert_eq!((rv, got.len()), (RTLS_CONF_BAD_DER, 0));
    let mut c = Collected { fields: Vec::new(), fail_at: 0 };
    let rv = rtls_x509_fields(ptr::null(), 0, Some(collect_field), &mut c as *mut Collected as *mut c_void);
    assert_eq!((rv, c.fields.len()), (RTLS_CONF_BAD_DER, 0));
}

fn all_test_ders() -> Vec<Vec<u8>> {
    expect_names().iter().map(|n| der(n)).collect()
}

/// Malformed input gives RTLS_CONF_BAD_DER and no callback; anything else
/// that parses gives only non-empty UTF-8 fields.
fn check_total(input: &[u8], what: &str) -> rtls_result {
    let (rv, got) = fields_c(input);
    match rv {
        RTLS_OK => assert!(got.iter().all(|(k, v)| !k.is_empty() && !v.is_empty()), "{}", what),
        RTLS_CONF_BAD_DER => assert!(got.is_empty(), "{}: callback called before the error", what),
        other => panic!("{}: {:?}", what, other),
    }
    rv
}

#[test]
fn truncated_and_extended_certificates_are_refused() {
    for d in all_test_ders() {
        for len in 0..d.len() {
            assert_eq!(check_total(&d[..len], "truncated"), RTLS_CONF_BAD_DER, "prefix of {} bytes", len);
        }
        let mut longer = d.clone();
        longer.push(0);
        assert_eq!(check_total(&longer, "trailing byte"), RTLS_CONF_BAD_DER);
    }
}

#[test]
fn mutated_certificates_never_panic() {
    let ders = all_test_ders();
    let mut rng = Rng(0x5eed_0f7e_57a7);
    let (mut ok, mut bad) = (0, 0);
    for round in 0..40_000 {
        let mut d = ders[(rng.next() % ders.len() as u64) as usize].clone();
        for _ in 0..1 + rng.next() % 4 {
            let at = (rng.next() % d.len() as u64) as usize;
            match rng.next() % 6 {
                0 => d[at] ^= 1 << (rng.next() % 8),
                1 => d[at] = rng.next() as u8,
                2 => d[at] = [0x00, 0x7f, 0x80, 0x81, 0x82, 0xff][(rng.next() % 6) as usize],
                3 => {
                    d.insert(at, rng.next() as u8);
                }
                4 => {
                    d.remove(at);
                }
                _ => d[at] = d[at].wrapping_add(1),
            }
            if d.is_empty() {
                break;
            }
        }
        match check_total(&d, &format!("round {}", round)) {
            RTLS_OK => ok += 1,
            _ => bad += 1,
        }
    }
    // Both outcomes are exercised (many mutations hit a signature or key).
    assert!(ok > 1000 && bad > 1000, "ok {} bad {}", ok, bad);
}

#[test]
fn random_bytes_are_refused() {
    let mut rng = Rng(0xbad_d3e5);
    for round in 0..5000 {
        let len = (rng.next() % 3000) as usize;
        let mut junk = rng.bytes(len);
        // Half of them start like a certificate, to get past the first check.
        if round % 2 == 0 && len > 4 {
            junk[0] = 0x30;
            junk[1] = 0x82;
            junk[2] = ((len - 4) >> 8) as u8;
            junk[3] = (len - 4) as u8;
        }
        check_total(&junk, &format!("round {}", round));
    }
}

// ---- DER made by hand, for what OpenSSL will not produce --------------------

/// Tag and minimal length octets of an element with `len` content bytes.
fn header(tag: u8, len: usize) -> Vec<u8> {
    let mut v = vec![tag];
    if len < 0x80 {
        v.push(len as u8);
    } else {
        let bytes: Vec<u8> = (len as u32).to_be_bytes().iter().copied().skip_while(|b| *b == 0).collect();
        v.push(0x80 | bytes.len() as u8);
        v.extend_from_slice(&bytes);
    }
    v
}

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut v = header(tag, content.len());
    v.extend_from_slice(content);
    v
}

fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

const OID_CN: &[u8] = &[0x55, 0x04, 0x03];
const OID_ECDSA_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];

fn name_cn(value: Vec<u8>) -> Vec<u8> {
    seq(&[tlv(0x31, &seq(&[tlv(0x06, OID_CN), value]))])
}

/// A certificate from parts, each already encoded.
struct Parts {
    version: Vec<u8>,
    serial: Vec<u8>,
    issuer: Vec<u8>,
    validity: Vec<u8>,
    subject: Vec<u8>,
    extensions: Vec<Vec<u8>>,
}

impl Default for Parts {
    fn default() -> Self {
        Parts {
            version: tlv(0xa0, &tlv(0x02, &[2])),
            serial: tlv(0x02, &[0x01]),
            issuer: name_cn(tlv(0x0c, b"issuer")),
            validity: seq(&[tlv(0x17, b"260101000000Z"), tlv(0x18, b"21260101000000Z")]),
            subject: name_cn(tlv(0x0c, b"subject")),
            extensions: Vec::new(),
        }
    }
}

impl Parts {
    fn der(&self) -> Vec<u8> {
        let alg = seq(&[tlv(0x06, OID_ECDSA_SHA256)]);
        let spki = seq(&[seq(&[tlv(0x06, OID_ED25519)]), tlv(0x03, &[0; 33])]);
        let mut tbs = vec![
            self.version.clone(),
            self.serial.clone(),
            alg.clone(),
            self.issuer.clone(),
            self.validity.clone(),
            self.subject.clone(),
            spki,
        ];
        if !self.extensions.is_empty() {
            tbs.push(tlv(0xa3, &seq(&self.extensions)));
        }
        seq(&[seq(&tbs), alg, tlv(0x03, &[0, 1, 2])])
    }

    fn fields(&self) -> Result<BTreeMap<String, String>, Malformed> {
        let d = self.der();
        let r = cert_fields(&d).map(|v| v.into_iter().map(|f| (f.name, f.value)).collect());
        // the C function agrees
        let (rv, _) = fields_c(&d);
        assert_eq!(rv == RTLS_OK, r.is_ok());
        r
    }
}

fn san(names: &[Vec<u8>]) -> Vec<u8> {
    seq(&[tlv(0x06, &[0x55, 0x1d, 0x11]), tlv(0x04, &seq(names))])
}

#[test]
fn hand_made_certificate_parses() {
    let f = Parts::default().fields().unwrap();
    assert_eq!(f["S_DN"], "CN=subject");
    assert_eq!(f["I_DN_CN"], "issuer");
    assert_eq!(f["V_START"], "Jan  1 00:00:00 2026 GMT");
    assert_eq!(f["V_END"], "Jan  1 00:00:00 2126 GMT");
    assert_eq!(f["A_SIG"], "ecdsa-with-SHA256");
    assert_eq!(f["M_SERIAL"], "01");
}

#[test]
fn subject_alt_name_values_are_escaped_like_dn_values() {
    // ASN1_STRING_print_ex(ESC_CTRL|UTF8_CONVERT), as for S_DN_<a> (checked
    // against OpenSSL through x509-exotic): control characters \XX, the
    // backslash doubled, bytes above 0x7f taken as Latin-1.
    let parts = Parts {
        extensions: vec![san(&[
            tlv(0x82, b"a\\\x01b\xe9"),
            tlv(0x82, b""),
            tlv(0x81, b"m@example.org"),
            tlv(0x87, &[192, 0, 2, 1]),
            tlv(0x86, b"https://example.org/"),
            tlv(0x82, b"c,d e"),
        ])],
        ..Parts::default()
    };
    let f = parts.fields().unwrap();
    assert_eq!(f["SAN_DNS_0"], "a\\\\\\01bé");
    assert_eq!(f["SAN_DNS_1"], "c,d e");
    assert_eq!(f["SAN_Email_0"], "m@example.org");
    assert!(!f.contains_key("SAN_DNS_2"));
}

#[test]
fn malformed_certificates_are_refused() {
    let d = Parts::default().der();
    // indefinite and non-minimal lengths of the outer SEQUENCE
    let mut indefinite = d.clone();
    indefinite[1] = 0x80;
    assert!(cert_fields(&indefinite).is_err());
    let header = if d[1] == 0x81 { 3 } else { 4 };
    let mut long_form = vec![0x30, 0x84];
    long_form.extend_from_slice(&((d.len() - header) as u32).to_be_bytes());
    long_form.extend_from_slice(&d[header..]);
    assert_eq!(cert_fields(&long_form), Err(Malformed("non-minimal length")));

    let refused = |p: Parts, why: &str| {
        assert!(p.fields().is_err(), "{} accepted", why);
    };
    refused(Parts { serial: tlv(0x02, &[]), ..Parts::default() }, "empty serial");
    refused(Parts { serial: tlv(0x02, &[0x00, 0x01]), ..Parts::default() }, "serial padded with 00");
    refused(Parts { serial: tlv(0x02, &[0xff, 0x80]), ..Parts::default() }, "serial padded with ff");
    refused(Parts { version: tlv(0xa0, &tlv(0x02, &[3])), ..Parts::default() }, "version 4");
    refused(Parts { subject: name_cn(tlv(0x0c, b"\xff")), ..Parts::default() }, "invalid UTF-8");
    refused(Parts { subject: name_cn(tlv(0x0c, b"\xed\xa0\x80")), ..Parts::default() }, "UTF-8 surrogate");
    refused(Parts { subject: name_cn(tlv(0x1e, b"\x00")), ..Parts::default() }, "odd BMPString");
    refused(Parts { subject: name_cn(tlv(0x1e, b"\xd8\x00")), ..Parts::default() }, "BMP surrogate");
    refused(Parts { subject: name_cn(tlv(0x1c, b"\x00\x11\x00\x00")), ..Parts::default() }, "UCS-4 beyond U+10FFFF");
    refused(Parts { subject: name_cn(tlv(0x1a, b"visible")), ..Parts::default() }, "VisibleString (OpenSSL refuses it)");
    refused(Parts { subject: name_cn(tlv(0x04, b"octets")), ..Parts::default() }, "OCTET STRING value");
    refused(Parts { subject: name_cn(tlv(0x2c, &tlv(0x0c, b"x"))), ..Parts::default() }, "constructed string");
    refused(Parts { subject: name_cn(tlv(0x03, &[0x01, 0x41])), ..Parts::default() }, "BIT STRING with unused bits set");
    refused(Parts { subject: seq(&[tlv(0x30, &[])]), ..Parts::default() }, "RDN that is not a SET");
    for (utc, why) in [
        (tlv(0x17, b"2601010000Z"), "no seconds"),
        (tlv(0x17, b"260101000000+0100"), "offset"),
        (tlv(0x17, b"260230000000Z"), "February 30"),
        (tlv(0x17, b"261301000000Z"), "month 13"),
        (tlv(0x17, b"260101240000Z"), "hour 24"),
        (tlv(0x17, b"2601010000a0Z"), "not a digit"),
        (tlv(0x18, b"20260101000000.Z"), "empty fraction"),
        (tlv(0x18, b"20260101000000"), "no Z"),
        (tlv(0x04, b"260101000000Z"), "not a time"),
    ] {
        refused(Parts { validity: seq(&[utc.clone(), utc]), ..Parts::default() }, why);
    }
    let attr = |oid: &[u8]| seq(&[tlv(0x31, &seq(&[tlv(0x06, oid), tlv(0x0c, b"x")]))]);
    refused(Parts { subject: attr(&[]), ..Parts::default() }, "empty OID");
    refused(Parts { subject: attr(&[0x55, 0x84]), ..Parts::default() }, "truncated OID");
    refused(Parts { subject: attr(&[0x55, 0x80, 0x03]), ..Parts::default() }, "non-minimal OID");
    // The longest OID OpenSSL translates: one huge arc; longer is refused.
    let mut huge = vec![0x81; 585];
    huge.push(0x01);
    let f = Parts { subject: attr(&huge), ..Parts::default() }.fields().unwrap();
    assert!(f["S_DN"].starts_with("2.") && f["S_DN"].ends_with("=#0C0178") && f["S_DN"].len() == 79 + 8, "{}", f["S_DN"]);
    huge.insert(0, 0x81);
    refused(Parts { subject: attr(&huge), ..Parts::default() }, "OID longer than 586 bytes");
    let bc = seq(&[tlv(0x06, &[0x55, 0x1d, 0x13]), tlv(0x04, &seq(&[]))]);
    refused(Parts { extensions: vec![bc.clone(), bc], ..Parts::default() }, "duplicate extension");
    refused(Parts { extensions: vec![san(&[tlv(0x89, b"x")])], ..Parts::default() }, "unknown GeneralName");
    refused(Parts { extensions: vec![san(&[tlv(0xa2, b"x")])], ..Parts::default() }, "constructed dNSName");
    // Leap day and GeneralizedTime before 2050 are fine.
    let ok = Parts { validity: seq(&[tlv(0x17, b"240229000000Z"), tlv(0x18, b"20000229235959Z")]), ..Parts::default() };
    let f = ok.fields().unwrap();
    assert_eq!(f["V_START"], "Feb 29 00:00:00 2024 GMT");
    assert_eq!(f["V_END"], "Feb 29 23:59:59 2000 GMT");
}

#[test]
fn serials_print_like_i2a_asn1_integer() {
    for (content, text) in [
        (&[0x00][..], "00"),
        (&[0x05][..], "05"),
        (&[0x00, 0x80][..], "80"),
        (&[0x80][..], "-80"),
        (&[0xff][..], "-01"),
        (&[0xff, 0x7f][..], "-81"),
        (&[0xff, 0x00][..], "-0100"),
        (&[0x80, 0x00][..], "-8000"),
    ] {
        let f = Parts { serial: tlv(0x02, content), ..Parts::default() }.fields().unwrap();
        assert_eq!(f["M_SERIAL"], text, "{:02x?}", content);
    }
}

#[test]
fn deep_nesting_is_refused_without_recursion() {
    // 100000 nested SEQUENCEs, valid DER: the parser never descends further
    // than a certificate's fixed structure, so this is just a wrong TBS.
    let depth = 100_000;
    let mut content = vec![0usize; depth + 1]; // content length at each level, innermost first
    for i in 1..=depth {
        content[i] = header(0x30, content[i - 1]).len() + content[i - 1];
    }
    let mut d = Vec::with_capacity(content[depth] + 8);
    for i in (0..=depth).rev() {
        d.extend_from_slice(&header(0x30, content[i]));
    }
    assert_eq!(d.len(), header(0x30, content[depth]).len() + content[depth]);
    assert_eq!(check_total(&d, "nested"), RTLS_CONF_BAD_DER);
}
