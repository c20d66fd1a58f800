//! Certificate variables as mod_ssl names and formats them, computed from a
//! certificate's DER: no rustls API exposes X.509 fields, so this module
//! parses them itself (safe Rust, no recursion, every length checked).
//!
//! What mod_ssl does, and therefore what this module reproduces (httpd
//! 2.4 `modules/ssl/ssl_engine_vars.c` and `ssl_util_ssl.c`, OpenSSL
//! `crypto/asn1/a_strex.c`, `f_int.c`, `a_time.c`):
//! - `M_VERSION`: the version field + 1; `M_SERIAL`: `i2a_ASN1_INTEGER`,
//!   upper-case hex of the magnitude, `-` when negative, `\`+newline after
//!   every 35 bytes.
//! - `S_DN`/`I_DN`: `X509_NAME_print_ex(XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB)`:
//!   RDNs last to first, `,` between RDNs and `+` inside one, OpenSSL's short
//!   attribute names (dotted OID and `#`+hex DER for unknown ones), RFC 2253
//!   escapes, control characters as `\XX`, UTF-8 kept.
//! - `S_DN_<a>`, `I_DN_<a>`: `modssl_var_extract_dns`: every attribute of
//!   mod_ssl's table in certificate order, the second one of a kind named
//!   `<a>_1`, and so on; the value is `ASN1_STRING_print_ex(ESC_CTRL|UTF8_CONVERT)`.
//! - `V_START`/`V_END`: `ASN1_TIME_print`, e.g. `Nov  7 02:00:00 2026 GMT`.
//! - `A_SIG`/`A_KEY`: `OBJ_nid2ln` of the TBS signature algorithm and of the
//!   public key algorithm, `UNKNOWN` for OIDs OpenSSL has no name for.
//! - `SAN_Email_<n>`, `SAN_DNS_<n>`: `modssl_var_extract_san_entries`,
//!   numbered from 0 over the non-empty entries, formatted like `S_DN_<a>`.
//! - `CERT`: `PEM_write_bio_X509`, 64 base64 characters a line.
//!
//! The parser accepts strict DER only (minimal lengths, no indefinite
//! lengths, nothing after the certificate) and, where OpenSSL is more lenient
//! than RFC 5280, rejects what RFC 5280 rules out (times other than
//! `YYMMDDHHMMSSZ`/`YYYYMMDDHHMMSS[.f]Z`, duplicate extensions) rather than
//! guess at OpenSSL's output. It rejects what OpenSSL refuses to load
//! (invalid UTF-8 or UCS-2/UCS-4 in names, name values of types OpenSSL's
//! `X509_NAME_ENTRY` does not allow, non-minimal INTEGERs).

use std::os::raw::{c_char, c_int, c_void};

use crate::error::rtls_result::{self, *};
use crate::ffi::{guard, try_slice};

/// One certificate variable: `name` is what follows `SSL_SERVER_` or
/// `SSL_CLIENT_`, `value` its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    pub value: String,
}

/// Why a certificate was refused (for tests and logs; C only sees
/// `RTLS_CONF_BAD_DER`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Malformed(pub &'static str);

type Res<T> = Result<T, Malformed>;

impl From<Malformed> for rtls_result {
    fn from(_: Malformed) -> rtls_result {
        RTLS_CONF_BAD_DER
    }
}

// ---- DER reading --------------------------------------------------------

const TAG_BOOLEAN: u8 = 0x01;
const TAG_INTEGER: u8 = 0x02;
const TAG_BIT_STRING: u8 = 0x03;
const TAG_OCTET_STRING: u8 = 0x04;
const TAG_OID: u8 = 0x06;
const TAG_UTF8: u8 = 0x0c;
const TAG_NUMERIC: u8 = 0x12;
const TAG_PRINTABLE: u8 = 0x13;
const TAG_T61: u8 = 0x14;
const TAG_IA5: u8 = 0x16;
const TAG_UTC_TIME: u8 = 0x17;
const TAG_GENERALIZED_TIME: u8 = 0x18;
const TAG_UNIVERSAL: u8 = 0x1c;
const TAG_BMP: u8 = 0x1e;
const TAG_SEQUENCE: u8 = 0x30;
const TAG_SET: u8 = 0x31;
const TAG_VERSION: u8 = 0xa0; // [0] EXPLICIT
const TAG_ISSUER_UID: u8 = 0x81; // [1] IMPLICIT
const TAG_SUBJECT_UID: u8 = 0x82; // [2] IMPLICIT
const TAG_EXTENSIONS: u8 = 0xa3; // [3] EXPLICIT

/// One encoded element: its tag, its contents and the whole encoding.
#[derive(Clone, Copy)]
struct Tlv<'a> {
    tag: u8,
    value: &'a [u8],
    encoded: &'a [u8],
}

/// Reads consecutive elements from a buffer. Nothing is read past its end.
struct Der<'a> {
    rest: &'a [u8],
}

impl<'a> Der<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Der { rest: buf }
    }

    fn at_end(&self) -> bool {
        self.rest.is_empty()
    }

    fn peek_tag(&self) -> Option<u8> {
        self.rest.first().copied()
    }

    fn any(&mut self) -> Res<Tlv<'a>> {
        let b = self.rest;
        let tag = *b.first().ok_or(Malformed("truncated"))?;
        if tag & 0x1f == 0x1f {
            return Err(Malformed("high tag numbers are not used in certificates"));
        }
        let first = *b.get(1).ok_or(Malformed("truncated"))?;
        let (len, header) = if first < 0x80 {
            (first as usize, 2)
        } else {
            let n = (first & 0x7f) as usize;
            if n == 0 {
                return Err(Malformed("indefinite length"));
            }
            if n > 4 {
                return Err(Malformed("length too large"));
            }
            let bytes = b.get(2..2 + n).ok_or(Malformed("truncated"))?;
            if bytes[0] == 0 {
                return Err(Malformed("non-minimal length"));
            }
            let len = bytes.iter().fold(0usize, |acc, x| (acc << 8) | *x as usize);
            if len < 0x80 {
                return Err(Malformed("non-minimal length"));
            }
            (len, 2 + n)
        };
        let end = header.checked_add(len).ok_or(Malformed("length too large"))?;
        let encoded = b.get(..end).ok_or(Malformed("truncated"))?;
        self.rest = &b[end..];
        Ok(Tlv { tag, value: &encoded[header..], encoded })
    }

    /// The contents of the next element, which must have tag `tag`.
    fn expect(&mut self, tag: u8, what: &'static str) -> Res<&'a [u8]> {
        if self.peek_tag() != Some(tag) {
            return Err(Malformed(what));
        }
        Ok(self.any()?.value)
    }

    /// The contents of the next element if it has tag `tag`.
    fn optional(&mut self, tag: u8) -> Res<Option<&'a [u8]>> {
        if self.peek_tag() == Some(tag) {
            Ok(Some(self.any()?.value))
        } else {
            Ok(None)
        }
    }

    fn finish(&self, what: &'static str) -> Res<()> {
        if self.at_end() {
            Ok(())
        } else {
            Err(Malformed(what))
        }
    }
}

// ---- object identifiers ---------------------------------------------------

/// OpenSSL (since 3.0.9, CVE-2023-2650) does not translate longer OIDs to
/// text; refusing them also bounds the work of [`oid_dotted`].
const MAX_OID_LEN: usize = 586;

fn check_oid(content: &[u8]) -> Res<()> {
    if content.len() > MAX_OID_LEN {
        return Err(Malformed("OID too long"));
    }
    match content.last() {
        None => return Err(Malformed("empty OID")),
        Some(last) if last & 0x80 != 0 => return Err(Malformed("truncated OID")),
        _ => {}
    }
    // A sub-identifier must not start with 0x80 (not minimal).
    let mut at_start = true;
    for &b in content {
        if at_start && b == 0x80 {
            return Err(Malformed("non-minimal OID"));
        }
        at_start = b & 0x80 == 0;
    }
    Ok(())
}

/// A non-negative integer of any size, as base 10^9 limbs, least
/// significant first (OID arcs can be 128-bit UUIDs and more).
struct Decimal(Vec<u32>);

impl Decimal {
    const BASE: u64 = 1_000_000_000;

    fn mul_add(&mut self, mul: u64, add: u64) {
        let mut carry = add;
        for limb in self.0.iter_mut() {
            let v = *limb as u64 * mul + carry;
            *limb = (v % Self::BASE) as u32;
            carry = v / Self::BASE;
        }
        while carry > 0 {
            self.0.push((carry % Self::BASE) as u32);
            carry /= Self::BASE;
        }
    }

    fn is_below(&self, n: u32) -> bool {
        self.0.iter().skip(1).all(|l| *l == 0) && self.0.first().map_or(0, |l| *l) < n
    }

    /// Subtract `n`; the value is at least `n`.
    fn sub(&mut self, n: u32) {
        let mut borrow = n as u64;
        for limb in self.0.iter_mut() {
            if borrow == 0 {
                break;
            }
            let v = *limb as u64;
            if v >= borrow {
                *limb = (v - borrow) as u32;
                borrow = 0;
            } else {
                *limb = (v + Self::BASE - borrow) as u32;
                borrow = 1;
            }
        }
    }

    fn write(&self, out: &mut String) {
        let mut limbs = self.0.iter().rev().skip_while(|l| **l == 0);
        match limbs.next() {
            None => out.push('0'),
            Some(top) => {
                out.push_str(&top.to_string());
                for l in limbs {
                    out.push_str(&format!("{:09}", l));
                }
            }
        }
    }
}

/// Dotted form of a checked OID, as `OBJ_obj2txt(.., 1)` writes it.
fn oid_dotted(content: &[u8]) -> String {
    let mut out = String::new();
    let mut arc = Decimal(Vec::new());
    let mut first = true;
    for &b in content {
        arc.mul_add(128, (b & 0x7f) as u64);
        if b & 0x80 != 0 {
            continue;
        }
        if first {
            // The first sub-identifier holds two arcs: 40 * X + Y, X <= 2.
            let x = if arc.is_below(40) {
                0
            } else if arc.is_below(80) {
                1
            } else {
                2
            };
            arc.sub(40 * x);
            out.push_str(&x.to_string());
            first = false;
        }
        out.push('.');
        arc.write(&mut out);
        arc.0.clear();
    }
    out
}

/// OpenSSL's short and long names (`OBJ_nid2sn`, `OBJ_nid2ln`) for the OIDs
/// that appear as name attributes, signature and public key algorithms. An
/// OID missing here is printed the way OpenSSL prints one it does not know.
/// tests/data/gen.sh reads this table and records what OpenSSL says of each
/// entry in tests/data/oids.expect, which tests/x509.rs compares with it.
// BEGIN OID TABLE
const OID_NAMES: &[(&str, &str, &str)] = &[
    ("0.9.2342.19200300.100.1.1", "UID", "userId"),
    ("0.9.2342.19200300.100.1.2", "textEncodedORAddress", "textEncodedORAddress"),
    ("0.9.2342.19200300.100.1.3", "mail", "rfc822Mailbox"),
    ("0.9.2342.19200300.100.1.4", "info", "info"),
    ("0.9.2342.19200300.100.1.5", "favouriteDrink", "favouriteDrink"),
    ("0.9.2342.19200300.100.1.6", "roomNumber", "roomNumber"),
    ("0.9.2342.19200300.100.1.7", "photo", "photo"),
    ("0.9.2342.19200300.100.1.8", "userClass", "userClass"),
    ("0.9.2342.19200300.100.1.9", "host", "host"),
    ("0.9.2342.19200300.100.1.10", "manager", "manager"),
    ("0.9.2342.19200300.100.1.11", "documentIdentifier", "documentIdentifier"),
    ("0.9.2342.19200300.100.1.12", "documentTitle", "documentTitle"),
    ("0.9.2342.19200300.100.1.13", "documentVersion", "documentVersion"),
    ("0.9.2342.19200300.100.1.14", "documentAuthor", "documentAuthor"),
    ("0.9.2342.19200300.100.1.15", "documentLocation", "documentLocation"),
    ("0.9.2342.19200300.100.1.20", "homeTelephoneNumber", "homeTelephoneNumber"),
    ("0.9.2342.19200300.100.1.21", "secretary", "secretary"),
    ("0.9.2342.19200300.100.1.22", "otherMailbox", "otherMailbox"),
    ("0.9.2342.19200300.100.1.23", "lastModifiedTime", "lastModifiedTime"),
    ("0.9.2342.19200300.100.1.24", "lastModifiedBy", "lastModifiedBy"),
    ("0.9.2342.19200300.100.1.25", "DC", "domainComponent"),
    ("0.9.2342.19200300.100.1.26", "aRecord", "aRecord"),
    ("0.9.2342.19200300.100.1.27", "pilotAttributeType27", "pilotAttributeType27"),
    ("0.9.2342.19200300.100.1.28", "mXRecord", "mXRecord"),
    ("0.9.2342.19200300.100.1.29", "nSRecord", "nSRecord"),
    ("0.9.2342.19200300.100.1.30", "sOARecord", "sOARecord"),
    ("0.9.2342.19200300.100.1.31", "cNAMERecord", "cNAMERecord"),
    ("0.9.2342.19200300.100.1.37", "associatedDomain", "associatedDomain"),
    ("0.9.2342.19200300.100.1.38", "associatedName", "associatedName"),
    ("0.9.2342.19200300.100.1.39", "homePostalAddress", "homePostalAddress"),
    ("0.9.2342.19200300.100.1.40", "personalTitle", "personalTitle"),
    ("0.9.2342.19200300.100.1.41", "mobileTelephoneNumber", "mobileTelephoneNumber"),
    ("0.9.2342.19200300.100.1.42", "pagerTelephoneNumber", "pagerTelephoneNumber"),
    ("0.9.2342.19200300.100.1.43", "friendlyCountryName", "friendlyCountryName"),
    ("0.9.2342.19200300.100.1.44", "uid", "uniqueIdentifier"),
    ("0.9.2342.19200300.100.1.45", "organizationalStatus", "organizationalStatus"),
    ("0.9.2342.19200300.100.1.46", "janetMailbox", "janetMailbox"),
    ("0.9.2342.19200300.100.1.47", "mailPreferenceOption", "mailPreferenceOption"),
    ("0.9.2342.19200300.100.1.48", "buildingName", "buildingName"),
    ("0.9.2342.19200300.100.1.49", "dSAQuality", "dSAQuality"),
    ("0.9.2342.19200300.100.1.50", "singleLevelQuality", "singleLevelQuality"),
    ("0.9.2342.19200300.100.1.51", "subtreeMinimumQuality", "subtreeMinimumQuality"),
    ("0.9.2342.19200300.100.1.52", "subtreeMaximumQuality", "subtreeMaximumQuality"),
    ("0.9.2342.19200300.100.1.53", "personalSignature", "personalSignature"),
    ("0.9.2342.19200300.100.1.54", "dITRedirect", "dITRedirect"),
    ("0.9.2342.19200300.100.1.55", "audio", "audio"),
    ("0.9.2342.19200300.100.1.56", "documentPublisher", "documentPublisher"),
    ("1.2.156.10197.1.301", "SM2", "sm2"),
    ("1.2.156.10197.1.501", "SM2-SM3", "SM2-with-SM3"),
    ("1.2.643.2.2.3", "id-GostR3411-94-with-GostR3410-2001", "GOST R 34.11-94 with GOST R 34.10-2001"),
    ("1.2.643.2.2.4", "id-GostR3411-94-with-GostR3410-94", "GOST R 34.11-94 with GOST R 34.10-94"),
    ("1.2.643.2.2.19", "gost2001", "GOST R 34.10-2001"),
    ("1.2.643.2.2.20", "gost94", "GOST R 34.10-94"),
    ("1.2.643.2.2.98", "id-GostR3410-2001DH", "GOST R 34.10-2001 DH"),
    ("1.2.643.2.2.99", "id-GostR3410-94DH", "GOST R 34.10-94 DH"),
    ("1.2.643.3.131.1.1", "INN", "INN"),
    ("1.2.643.7.1.1.1.1", "gost2012_256", "GOST R 34.10-2012 with 256 bit modulus"),
    ("1.2.643.7.1.1.1.2", "gost2012_512", "GOST R 34.10-2012 with 512 bit modulus"),
    ("1.2.643.7.1.1.3.2", "id-tc26-signwithdigest-gost3410-2012-256", "GOST R 34.10-2012 with GOST R 34.11-2012 (256 bit)"),
    ("1.2.643.7.1.1.3.3", "id-tc26-signwithdigest-gost3410-2012-512", "GOST R 34.10-2012 with GOST R 34.11-2012 (512 bit)"),
    ("1.2.643.100.1", "OGRN", "OGRN"),
    ("1.2.643.100.3", "SNILS", "SNILS"),
    ("1.2.643.100.5", "OGRNIP", "OGRNIP"),
    ("1.2.643.100.111", "subjectSignTool", "Signing Tool of Subject"),
    ("1.2.643.100.112", "issuerSignTool", "Signing Tool of Issuer"),
    ("1.2.643.100.113", "classSignTool", "Class of Signing Tool"),
    ("1.2.840.10040.4.1", "DSA", "dsaEncryption"),
    ("1.2.840.10040.4.3", "DSA-SHA1", "dsaWithSHA1"),
    ("1.2.840.10045.2.1", "id-ecPublicKey", "id-ecPublicKey"),
    ("1.2.840.10045.4.1", "ecdsa-with-SHA1", "ecdsa-with-SHA1"),
    ("1.2.840.10045.4.2", "ecdsa-with-Recommended", "ecdsa-with-Recommended"),
    ("1.2.840.10045.4.3", "ecdsa-with-Specified", "ecdsa-with-Specified"),
    ("1.2.840.10045.4.3.1", "ecdsa-with-SHA224", "ecdsa-with-SHA224"),
    ("1.2.840.10045.4.3.2", "ecdsa-with-SHA256", "ecdsa-with-SHA256"),
    ("1.2.840.10045.4.3.3", "ecdsa-with-SHA384", "ecdsa-with-SHA384"),
    ("1.2.840.10045.4.3.4", "ecdsa-with-SHA512", "ecdsa-with-SHA512"),
    ("1.2.840.10046.2.1", "dhpublicnumber", "X9.42 DH"),
    ("1.2.840.113549.1.1.1", "rsaEncryption", "rsaEncryption"),
    ("1.2.840.113549.1.1.2", "RSA-MD2", "md2WithRSAEncryption"),
    ("1.2.840.113549.1.1.3", "RSA-MD4", "md4WithRSAEncryption"),
    ("1.2.840.113549.1.1.4", "RSA-MD5", "md5WithRSAEncryption"),
    ("1.2.840.113549.1.1.5", "RSA-SHA1", "sha1WithRSAEncryption"),
    ("1.2.840.113549.1.1.6", "rsaOAEPEncryptionSET", "rsaOAEPEncryptionSET"),
    ("1.2.840.113549.1.1.7", "RSAES-OAEP", "rsaesOaep"),
    ("1.2.840.113549.1.1.10", "RSASSA-PSS", "rsassaPss"),
    ("1.2.840.113549.1.1.11", "RSA-SHA256", "sha256WithRSAEncryption"),
    ("1.2.840.113549.1.1.12", "RSA-SHA384", "sha384WithRSAEncryption"),
    ("1.2.840.113549.1.1.13", "RSA-SHA512", "sha512WithRSAEncryption"),
    ("1.2.840.113549.1.1.14", "RSA-SHA224", "sha224WithRSAEncryption"),
    ("1.2.840.113549.1.1.15", "RSA-SHA512/224", "sha512-224WithRSAEncryption"),
    ("1.2.840.113549.1.1.16", "RSA-SHA512/256", "sha512-256WithRSAEncryption"),
    ("1.2.840.113549.1.3.1", "dhKeyAgreement", "dhKeyAgreement"),
    ("1.2.840.113549.1.9.1", "emailAddress", "emailAddress"),
    ("1.2.840.113549.1.9.2", "unstructuredName", "unstructuredName"),
    ("1.2.840.113549.1.9.3", "contentType", "contentType"),
    ("1.2.840.113549.1.9.4", "messageDigest", "messageDigest"),
    ("1.2.840.113549.1.9.5", "signingTime", "signingTime"),
    ("1.2.840.113549.1.9.6", "countersignature", "countersignature"),
    ("1.2.840.113549.1.9.7", "challengePassword", "challengePassword"),
    ("1.2.840.113549.1.9.8", "unstructuredAddress", "unstructuredAddress"),
    ("1.2.840.113549.1.9.9", "extendedCertificateAttributes", "extendedCertificateAttributes"),
    ("1.2.840.113549.1.9.14", "extReq", "Extension Request"),
    ("1.2.840.113549.1.9.15", "SMIME-CAPS", "S/MIME Capabilities"),
    ("1.2.840.113549.1.9.20", "friendlyName", "friendlyName"),
    ("1.2.840.113549.1.9.21", "localKeyID", "localKeyID"),
    ("1.3.6.1.4.1.311.60.2.1.1", "jurisdictionL", "jurisdictionLocalityName"),
    ("1.3.6.1.4.1.311.60.2.1.2", "jurisdictionST", "jurisdictionStateOrProvinceName"),
    ("1.3.6.1.4.1.311.60.2.1.3", "jurisdictionC", "jurisdictionCountryName"),
    ("1.3.6.1.5.5.7.9.1", "id-pda-dateOfBirth", "id-pda-dateOfBirth"),
    ("1.3.6.1.5.5.7.9.2", "id-pda-placeOfBirth", "id-pda-placeOfBirth"),
    ("1.3.6.1.5.5.7.9.3", "id-pda-gender", "id-pda-gender"),
    ("1.3.6.1.5.5.7.9.4", "id-pda-countryOfCitizenship", "id-pda-countryOfCitizenship"),
    ("1.3.6.1.5.5.7.9.5", "id-pda-countryOfResidence", "id-pda-countryOfResidence"),
    ("1.3.14.3.2.3", "RSA-NP-MD5", "md5WithRSA"),
    ("1.3.14.3.2.11", "rsaSignature", "rsaSignature"),
    ("1.3.14.3.2.12", "DSA-old", "dsaEncryption-old"),
    ("1.3.14.3.2.13", "DSA-SHA", "dsaWithSHA"),
    ("1.3.14.3.2.15", "RSA-SHA", "shaWithRSAEncryption"),
    ("1.3.14.3.2.18", "SHA", "sha"),
    ("1.3.14.3.2.26", "SHA1", "sha1"),
    ("1.3.14.3.2.27", "DSA-SHA1-old", "dsaWithSHA1-old"),
    ("1.3.14.3.2.29", "RSA-SHA1-2", "sha1WithRSA"),
    ("1.3.101.110", "X25519", "X25519"),
    ("1.3.101.111", "X448", "X448"),
    ("1.3.101.112", "ED25519", "ED25519"),
    ("1.3.101.113", "ED448", "ED448"),
    ("2.5.4.3", "CN", "commonName"),
    ("2.5.4.4", "SN", "surname"),
    ("2.5.4.5", "serialNumber", "serialNumber"),
    ("2.5.4.6", "C", "countryName"),
    ("2.5.4.7", "L", "localityName"),
    ("2.5.4.8", "ST", "stateOrProvinceName"),
    ("2.5.4.9", "street", "streetAddress"),
    ("2.5.4.10", "O", "organizationName"),
    ("2.5.4.11", "OU", "organizationalUnitName"),
    ("2.5.4.12", "title", "title"),
    ("2.5.4.13", "description", "description"),
    ("2.5.4.14", "searchGuide", "searchGuide"),
    ("2.5.4.15", "businessCategory", "businessCategory"),
    ("2.5.4.16", "postalAddress", "postalAddress"),
    ("2.5.4.17", "postalCode", "postalCode"),
    ("2.5.4.18", "postOfficeBox", "postOfficeBox"),
    ("2.5.4.19", "physicalDeliveryOfficeName", "physicalDeliveryOfficeName"),
    ("2.5.4.20", "telephoneNumber", "telephoneNumber"),
    ("2.5.4.21", "telexNumber", "telexNumber"),
    ("2.5.4.22", "teletexTerminalIdentifier", "teletexTerminalIdentifier"),
    ("2.5.4.23", "facsimileTelephoneNumber", "facsimileTelephoneNumber"),
    ("2.5.4.24", "x121Address", "x121Address"),
    ("2.5.4.25", "internationaliSDNNumber", "internationaliSDNNumber"),
    ("2.5.4.26", "registeredAddress", "registeredAddress"),
    ("2.5.4.27", "destinationIndicator", "destinationIndicator"),
    ("2.5.4.28", "preferredDeliveryMethod", "preferredDeliveryMethod"),
    ("2.5.4.29", "presentationAddress", "presentationAddress"),
    ("2.5.4.30", "supportedApplicationContext", "supportedApplicationContext"),
    ("2.5.4.31", "member", "member"),
    ("2.5.4.32", "owner", "owner"),
    ("2.5.4.33", "roleOccupant", "roleOccupant"),
    ("2.5.4.34", "seeAlso", "seeAlso"),
    ("2.5.4.35", "userPassword", "userPassword"),
    ("2.5.4.36", "userCertificate", "userCertificate"),
    ("2.5.4.37", "cACertificate", "cACertificate"),
    ("2.5.4.38", "authorityRevocationList", "authorityRevocationList"),
    ("2.5.4.39", "certificateRevocationList", "certificateRevocationList"),
    ("2.5.4.40", "crossCertificatePair", "crossCertificatePair"),
    ("2.5.4.41", "name", "name"),
    ("2.5.4.42", "GN", "givenName"),
    ("2.5.4.43", "initials", "initials"),
    ("2.5.4.44", "generationQualifier", "generationQualifier"),
    ("2.5.4.45", "x500UniqueIdentifier", "x500UniqueIdentifier"),
    ("2.5.4.46", "dnQualifier", "dnQualifier"),
    ("2.5.4.47", "enhancedSearchGuide", "enhancedSearchGuide"),
    ("2.5.4.48", "protocolInformation", "protocolInformation"),
    ("2.5.4.49", "distinguishedName", "distinguishedName"),
    ("2.5.4.50", "uniqueMember", "uniqueMember"),
    ("2.5.4.51", "houseIdentifier", "houseIdentifier"),
    ("2.5.4.52", "supportedAlgorithms", "supportedAlgorithms"),
    ("2.5.4.53", "deltaRevocationList", "deltaRevocationList"),
    ("2.5.4.54", "dmdName", "dmdName"),
    ("2.5.4.65", "pseudonym", "pseudonym"),
    ("2.5.4.72", "role", "role"),
    ("2.5.4.97", "organizationIdentifier", "organizationIdentifier"),
    ("2.5.4.98", "c3", "countryCode3c"),
    ("2.5.4.99", "n3", "countryCode3n"),
    ("2.5.4.100", "dnsName", "dnsName"),
    ("2.5.8.1.1", "RSA", "rsa"),
    ("2.16.840.1.101.3.4.3.1", "dsa_with_SHA224", "dsa_with_SHA224"),
    ("2.16.840.1.101.3.4.3.2", "dsa_with_SHA256", "dsa_with_SHA256"),
    ("2.16.840.1.101.3.4.3.3", "id-dsa-with-sha384", "dsa_with_SHA384"),
    ("2.16.840.1.101.3.4.3.4", "id-dsa-with-sha512", "dsa_with_SHA512"),
    ("2.16.840.1.101.3.4.3.5", "id-dsa-with-sha3-224", "dsa_with_SHA3-224"),
    ("2.16.840.1.101.3.4.3.6", "id-dsa-with-sha3-256", "dsa_with_SHA3-256"),
    ("2.16.840.1.101.3.4.3.7", "id-dsa-with-sha3-384", "dsa_with_SHA3-384"),
    ("2.16.840.1.101.3.4.3.8", "id-dsa-with-sha3-512", "dsa_with_SHA3-512"),
    ("2.16.840.1.101.3.4.3.9", "id-ecdsa-with-sha3-224", "ecdsa_with_SHA3-224"),
    ("2.16.840.1.101.3.4.3.10", "id-ecdsa-with-sha3-256", "ecdsa_with_SHA3-256"),
    ("2.16.840.1.101.3.4.3.11", "id-ecdsa-with-sha3-384", "ecdsa_with_SHA3-384"),
    ("2.16.840.1.101.3.4.3.12", "id-ecdsa-with-sha3-512", "ecdsa_with_SHA3-512"),
    ("2.16.840.1.101.3.4.3.13", "id-rsassa-pkcs1-v1_5-with-sha3-224", "RSA-SHA3-224"),
    ("2.16.840.1.101.3.4.3.14", "id-rsassa-pkcs1-v1_5-with-sha3-256", "RSA-SHA3-256"),
    ("2.16.840.1.101.3.4.3.15", "id-rsassa-pkcs1-v1_5-with-sha3-384", "RSA-SHA3-384"),
    ("2.16.840.1.101.3.4.3.16", "id-rsassa-pkcs1-v1_5-with-sha3-512", "RSA-SHA3-512"),
];
// END OID TABLE

/// Short and long name of the OID in dotted form.
pub fn oid_names(dotted: &str) -> Option<(&'static str, &'static str)> {
    OID_NAMES.iter().find(|(oid, _, _)| *oid == dotted).map(|(_, sn, ln)| (*sn, *ln))
}

/// Every OID with its names, in the table's order (for tests).
pub fn known_oids() -> impl Iterator<Item = (&'static str, &'static str, &'static str)> {
    OID_NAMES.iter().copied()
}

/// The attribute names mod_ssl exports (`ssl_var_lookup_ssl_cert_dn_rec`
/// entries with `extract` set; its `SP` alias of `ST` is lookup-only).
const MODSSL_DN_ATTRS: &[(&str, &str)] = &[
    ("2.5.4.6", "C"),
    ("2.5.4.8", "ST"),
    ("2.5.4.7", "L"),
    ("2.5.4.10", "O"),
    ("2.5.4.11", "OU"),
    ("2.5.4.3", "CN"),
    ("2.5.4.12", "T"),
    ("2.5.4.43", "I"),
    ("2.5.4.42", "G"),
    ("2.5.4.4", "S"),
    ("2.5.4.13", "D"),
    ("0.9.2342.19200300.100.1.1", "UID"),
    ("1.2.840.113549.1.9.1", "Email"),
];

const OID_SUBJECT_ALT_NAME: &[u8] = &[0x55, 0x1d, 0x11]; // 2.5.29.17
const OID_MS_UPN: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x14, 0x02, 0x03]; // 1.3.6.1.4.1.311.20.2.3

// ---- strings ---------------------------------------------------------------

/// The escaping OpenSSL applies: RFC 2253 for distinguished names
/// (`ASN1_STRFLGS_ESC_2253 | ESC_CTRL`), control characters only for
/// single values (`ESC_CTRL`). Neither escapes bytes above 0x7f.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Escape {
    Rfc2253,
    Ctrl,
}

/// Append `c`, escaped as `do_esc_char` does. `first`/`last`: the character
/// starts/ends the value (OpenSSL counts a lone character as last only).
fn push_escaped(out: &mut String, c: char, esc: Escape, first: bool, last: bool) {
    if !c.is_ascii() {
        out.push(c);
        return;
    }
    let b = c as u8;
    let backslash = esc == Escape::Rfc2253
        && match b {
            b'"' | b'+' | b',' | b';' | b'<' | b'>' | b'\\' => true,
            b'#' => first && !last,
            b' ' => first || last,
            _ => false,
        };
    if backslash {
        out.push('\\');
        out.push(c);
    } else if b < 0x20 || b == 0x7f {
        out.push_str(&format!("\\{:02X}", b));
    } else if b == b'\\' {
        out.push_str("\\\\");
    } else {
        out.push(c);
    }
}

fn push_escaped_all<I: ExactSizeIterator<Item = char>>(out: &mut String, chars: I, esc: Escape) {
    let n = chars.len();
    for (i, c) in chars.enumerate() {
        push_escaped(out, c, esc, i == 0, i + 1 == n);
    }
}

fn latin1(bytes: &[u8]) -> impl ExactSizeIterator<Item = char> + '_ {
    bytes.iter().map(|b| *b as char)
}

/// Characters of a UCS-2 (`width` 2) or UCS-4 (`width` 4) string; errors
/// where OpenSSL refuses the string (odd length, surrogates, > U+10FFFF).
fn wide_chars(bytes: &[u8], width: usize) -> Res<Vec<char>> {
    if bytes.len() % width != 0 {
        return Err(Malformed("BMPString/UniversalString of odd length"));
    }
    bytes
        .chunks(width)
        .map(|ch| {
            let v = ch.iter().fold(0u32, |acc, b| (acc << 8) | *b as u32);
            std::char::from_u32(v).ok_or(Malformed("invalid character in BMPString/UniversalString"))
        })
        .collect()
}

/// Check that an attribute value in a name is one OpenSSL's
/// `X509_NAME_ENTRY` accepts (`B_ASN1_PRINTABLE`; strings it converts to
/// UTF-8 must convert).
fn check_name_value(v: &Tlv) -> Res<()> {
    match v.tag {
        TAG_UTF8 => std::str::from_utf8(v.value).map(|_| ()).map_err(|_| Malformed("invalid UTF8String")),
        TAG_BMP => wide_chars(v.value, 2).map(|_| ()),
        TAG_UNIVERSAL => wide_chars(v.value, 4).map(|_| ()),
        TAG_NUMERIC | TAG_PRINTABLE | TAG_T61 | TAG_IA5 => Ok(()),
        TAG_BIT_STRING => check_bit_string(v.value),
        // ObjectDescriptor, EXTERNAL, REAL, EMBEDDED PDV, RELATIVE-OID, the
        // reserved 14/15 and CHARACTER STRING: accepted and hex-dumped.
        0x07 | 0x08 | 0x09 | 0x0b | 0x0d | 0x0e | 0x0f | 0x1d | TAG_SEQUENCE => Ok(()),
        _ => Err(Malformed("name attribute value of a type OpenSSL does not accept")),
    }
}

fn check_bit_string(v: &[u8]) -> Res<()> {
    match v.split_first() {
        Some((&0, _)) => Ok(()),
        Some((&unused, rest)) if unused < 8 && !rest.is_empty() => {
            if rest[rest.len() - 1] & ((1u8 << unused) - 1) == 0 {
                Ok(())
            } else {
                Err(Malformed("BIT STRING with non-zero unused bits"))
            }
        }
        _ => Err(Malformed("malformed BIT STRING")),
    }
}

fn push_hex(out: &mut String, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in bytes {
        out.push(HEX[(b >> 4) as usize] as char);
        out.push(HEX[(b & 0xf) as usize] as char);
    }
}

/// Append a checked attribute value as `do_print_ex` prints it:
/// `Escape::Rfc2253` with `ASN1_STRFLGS_DUMP_UNKNOWN | DUMP_DER` (types
/// that are not text become `#` + hex of their DER), `Escape::Ctrl` without
/// (their content bytes are taken as Latin-1).
fn push_value(out: &mut String, v: &Tlv, esc: Escape) -> Res<()> {
    match v.tag {
        // UTF-8 is copied, "converting" it byte by byte (OpenSSL treats a
        // UTF8String as one byte a character when asked for UTF-8 output).
        TAG_UTF8 => {
            let s = std::str::from_utf8(v.value).map_err(|_| Malformed("invalid UTF8String"))?;
            let n = v.value.len();
            for (i, c) in s.char_indices() {
                push_escaped(out, c, esc, i == 0, i + c.len_utf8() == n);
            }
        }
        TAG_NUMERIC | TAG_PRINTABLE | TAG_T61 | TAG_IA5 => push_escaped_all(out, latin1(v.value), esc),
        TAG_BMP => push_escaped_all(out, wide_chars(v.value, 2)?.into_iter(), esc),
        TAG_UNIVERSAL => push_escaped_all(out, wide_chars(v.value, 4)?.into_iter(), esc),
        _ if esc == Escape::Rfc2253 => {
            out.push('#');
            push_hex(out, v.encoded);
        }
        // OpenSSL keeps a SEQUENCE as its whole encoding, and a BIT STRING
        // without the unused-bits octet.
        TAG_SEQUENCE => push_escaped_all(out, latin1(v.encoded), esc),
        TAG_BIT_STRING => push_escaped_all(out, latin1(v.value.get(1..).unwrap_or(&[])), esc),
        _ => push_escaped_all(out, latin1(v.value), esc),
    }
    Ok(())
}

fn value_text(v: &Tlv) -> Res<String> {
    let mut s = String::new();
    push_value(&mut s, v, Escape::Ctrl)?;
    Ok(s)
}

// ---- names -------------------------------------------------------------------

/// One attribute of a distinguished name; `set` numbers the RDN it is in.
struct Attribute<'a> {
    set: usize,
    oid: String,
    value: Tlv<'a>,
}

fn parse_name(content: &[u8]) -> Res<Vec<Attribute<'_>>> {
    let mut attrs = Vec::new();
    let mut rdns = Der::new(content);
    let mut set = 0;
    while !rdns.at_end() {
        let mut rdn = Der::new(rdns.expect(TAG_SET, "name: RDN is not a SET")?);
        while !rdn.at_end() {
            let mut atv = Der::new(rdn.expect(TAG_SEQUENCE, "name: attribute is not a SEQUENCE")?);
            let oid = atv.expect(TAG_OID, "name: attribute type is not an OID")?;
            check_oid(oid)?;
            let value = atv.any()?;
            atv.finish("name: extra data in attribute")?;
            check_name_value(&value)?;
            attrs.push(Attribute { set, oid: oid_dotted(oid), value });
        }
        set += 1;
    }
    Ok(attrs)
}

/// `X509_NAME_print_ex(XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB)`.
fn name_rfc2253(attrs: &[Attribute]) -> Res<String> {
    let mut out = String::new();
    let mut prev: Option<usize> = None;
    for a in attrs.iter().rev() {
        if let Some(p) = prev {
            out.push(if p == a.set { '+' } else { ',' });
        }
        prev = Some(a.set);
        match oid_names(&a.oid) {
            Some((sn, _)) => {
                out.push_str(sn);
                out.push('=');
                push_value(&mut out, &a.value, Escape::Rfc2253)?;
            }
            None => {
                // OBJ_obj2txt into an 80-byte buffer; the value as DER.
                out.push_str(a.oid.get(..79).unwrap_or(&a.oid));
                out.push_str("=#");
                push_hex(&mut out, a.value.encoded);
            }
        }
    }
    Ok(out)
}

/// `<prefix>` (e.g. `S_DN`) and `<prefix>_<attr>[_<n>]` as mod_ssl sets them.
fn push_name_fields(fields: &mut Vec<Field>, prefix: &str, attrs: &[Attribute]) -> Res<()> {
    push_field(fields, prefix, name_rfc2253(attrs)?);
    let mut seen = vec![0usize; MODSSL_DN_ATTRS.len()];
    for a in attrs {
        if let Some(i) = MODSSL_DN_ATTRS.iter().position(|(oid, _)| *oid == a.oid) {
            let short = MODSSL_DN_ATTRS[i].1;
            let name = match seen[i] {
                0 => format!("{}_{}", prefix, short),
                n => format!("{}_{}_{}", prefix, short, n),
            };
            seen[i] += 1;
            push_field(fields, &name, value_text(&a.value)?);
        }
    }
    Ok(())
}

/// mod_ssl leaves a variable unset when its text is empty.
fn push_field(fields: &mut Vec<Field>, name: &str, value: String) {
    if !value.is_empty() {
        fields.push(Field { name: name.to_string(), value });
    }
}

// ---- other fields ------------------------------------------------------------

/// `i2a_ASN1_INTEGER` of a serial number.
fn serial_text(content: &[u8]) -> Res<String> {
    let (first, rest) = content.split_first().ok_or(Malformed("empty INTEGER"))?;
    if let Some(second) = rest.first() {
        if (*first == 0 && second & 0x80 == 0) || (*first == 0xff && second & 0x80 != 0) {
            return Err(Malformed("non-minimal INTEGER"));
        }
    }
    let negative = first & 0x80 != 0;
    let mut magnitude = content.to_vec();
    if negative {
        // two's complement: invert, add one
        let mut carry = true;
        for b in magnitude.iter_mut().rev() {
            let (v, c) = (!*b).overflowing_add(carry as u8);
            *b = v;
            carry = c;
        }
    }
    let skip = magnitude.iter().take_while(|b| **b == 0).count().min(magnitude.len() - 1);
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    for (i, chunk) in magnitude[skip..].chunks(35).enumerate() {
        if i > 0 {
            out.push_str("\\\n");
        }
        push_hex(&mut out, chunk);
    }
    Ok(out)
}

fn digits(s: &[u8]) -> Res<u32> {
    s.iter().try_fold(0u32, |acc, b| {
        if b.is_ascii_digit() {
            Ok(acc * 10 + (b - b'0') as u32)
        } else {
            Err(Malformed("time: not a digit"))
        }
    })
}

/// `ASN1_TIME_print` of a UTCTime or GeneralizedTime in RFC 5280 form
/// (GeneralizedTime may carry fractional seconds, printed as given).
fn time_text(t: &Tlv) -> Res<String> {
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let s = t.value;
    let (year, rest, fraction) = match t.tag {
        TAG_UTC_TIME if s.len() == 13 => {
            let yy = digits(&s[..2])?;
            (if yy < 50 { 2000 + yy } else { 1900 + yy }, &s[2..12], &s[12..12])
        }
        TAG_GENERALIZED_TIME if s.len() >= 15 => {
            let fraction = &s[14..s.len() - 1];
            if !fraction.is_empty()
                && (fraction.len() < 2 || fraction[0] != b'.' || !fraction[1..].iter().all(|b| b.is_ascii_digit()))
            {
                return Err(Malformed("time: bad fractional seconds"));
            }
            (digits(&s[..4])?, &s[4..14], fraction)
        }
        TAG_UTC_TIME | TAG_GENERALIZED_TIME => return Err(Malformed("time: not in RFC 5280 form")),
        _ => return Err(Malformed("time: neither UTCTime nor GeneralizedTime")),
    };
    if s[s.len() - 1] != b'Z' {
        return Err(Malformed("time: not in UTC (Z)"));
    }
    let (month, day) = (digits(&rest[0..2])?, digits(&rest[2..4])?);
    let (hour, minute, second) = (digits(&rest[4..6])?, digits(&rest[6..8])?, digits(&rest[8..10])?);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if !(1..=12).contains(&month) || day < 1 || day > month_days || hour > 23 || minute > 59 || second > 59 {
        return Err(Malformed("time: out of range"));
    }
    Ok(format!(
        "{} {:2} {:02}:{:02}:{:02}{} {} GMT",
        MONTHS[(month - 1) as usize],
        day,
        hour,
        minute,
        second,
        String::from_utf8_lossy(fraction),
        year
    ))
}

/// Seconds since 1970 of a UTCTime or GeneralizedTime in RFC 5280 form
/// (fractional seconds dropped).
fn time_epoch(t: &Tlv) -> Res<i64> {
    time_text(t)?; // checks form and ranges
    let s = t.value;
    let (year, rest) = match t.tag {
        TAG_UTC_TIME => {
            let yy = digits(&s[..2])? as i64;
            (if yy < 50 { 2000 + yy } else { 1900 + yy }, &s[2..12])
        }
        _ => (digits(&s[..4])? as i64, &s[4..14]),
    };
    let n = |r: std::ops::Range<usize>| -> Res<i64> { Ok(digits(&rest[r])? as i64) };
    let (month, day) = (n(0..2)?, n(2..4)?);
    // days from civil (Howard Hinnant's algorithm)
    let y = if month <= 2 { year - 1 } else { year };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146097 + doe - 719468;
    Ok(days * 86400 + n(4..6)? * 3600 + n(6..8)? * 60 + n(8..10)?)
}

/// The TBSCertificate of a DER certificate, read up to its issuer Name
/// (version, serialNumber and signature skipped).
fn tbs_at_issuer(der: &[u8]) -> Res<Der<'_>> {
    let mut top = Der::new(der);
    let mut cert = Der::new(top.expect(TAG_SEQUENCE, "not a SEQUENCE")?);
    let mut tbs = Der::new(cert.expect(TAG_SEQUENCE, "TBSCertificate is not a SEQUENCE")?);
    tbs.optional(TAG_VERSION)?;
    tbs.expect(TAG_INTEGER, "serialNumber is not an INTEGER")?;
    tbs.expect(TAG_SEQUENCE, "signature is not an AlgorithmIdentifier")?;
    Ok(tbs)
}

/// notAfter of a DER certificate, in seconds since 1970.
pub fn cert_not_after(der: &[u8]) -> Res<i64> {
    let mut tbs = tbs_at_issuer(der)?;
    tbs.expect(TAG_SEQUENCE, "issuer is not a Name")?;
    let mut validity = Der::new(tbs.expect(TAG_SEQUENCE, "validity is not a SEQUENCE")?);
    validity.any()?;
    time_epoch(&validity.any()?)
}

/// nextUpdate of a DER CRL (RFC 5280 5.1) in seconds since 1970, 0 when
/// the CRL has none.
pub fn crl_next_update(der: &[u8]) -> Res<u64> {
    let mut top = Der::new(der);
    let mut crl = Der::new(top.expect(TAG_SEQUENCE, "CRL is not a SEQUENCE")?);
    top.finish("data after the CRL")?;
    let mut tbs = Der::new(crl.expect(TAG_SEQUENCE, "TBSCertList is not a SEQUENCE")?);
    tbs.optional(TAG_INTEGER)?; // version
    tbs.expect(TAG_SEQUENCE, "CRL signature is not an AlgorithmIdentifier")?;
    tbs.expect(TAG_SEQUENCE, "CRL issuer is not a Name")?;
    tbs.any()?; // thisUpdate
    match tbs.peek_tag() {
        Some(TAG_UTC_TIME) | Some(TAG_GENERALIZED_TIME) => Ok(time_epoch(&tbs.any()?)?.max(0) as u64),
        _ => Ok(0),
    }
}

/// Algorithm OID of an AlgorithmIdentifier, dotted.
fn algorithm(content: &[u8]) -> Res<String> {
    let mut d = Der::new(content);
    let oid = d.expect(TAG_OID, "algorithm is not an OID")?;
    check_oid(oid)?;
    if !d.at_end() {
        d.any()?; // parameters
    }
    d.finish("extra data in AlgorithmIdentifier")?;
    Ok(oid_dotted(oid))
}

/// `OBJ_nid2ln`, or mod_ssl's `UNKNOWN` when OpenSSL has no name.
fn algorithm_name(dotted: &str) -> String {
    oid_names(dotted).map_or("UNKNOWN", |(_, ln)| ln).to_string()
}

/// Check a subjectAltName extension value and collect the text of its
/// rfc822Name and dNSName entries, in order (empty ones included: the
/// caller skips them when numbering, as mod_ssl does). Other kinds are
/// checked for form only.
fn parse_san(ext_value: &[u8], emails: &mut Vec<String>, dns: &mut Vec<String>, upns: &mut Vec<String>) -> Res<()> {
    let mut outer = Der::new(ext_value);
    let mut names = Der::new(outer.expect(TAG_SEQUENCE, "subjectAltName is not a SEQUENCE")?);
    outer.finish("extra data after subjectAltName")?;
    while !names.at_end() {
        let gn = names.any()?;
        match gn.tag {
            0x81 => emails.push(value_text(&Tlv { tag: TAG_IA5, ..gn })?),
            0x82 => dns.push(value_text(&Tlv { tag: TAG_IA5, ..gn })?),
            0xa0 => {
                // otherName: type-id, [0] EXPLICIT value
                let mut d = Der::new(gn.value);
                let type_id = d.expect(TAG_OID, "otherName type is not an OID")?;
                check_oid(type_id)?;
                let mut v = Der::new(d.expect(0xa0, "otherName without value")?);
                let value = v.any()?;
                v.finish("extra data in otherName value")?;
                // mod_ssl's SAN_OTHER_msUPN_<n>: UTF8String values only
                if type_id == OID_MS_UPN && value.tag == TAG_UTF8 {
                    upns.push(value_text(&value)?);
                }
                d.finish("extra data in otherName")?;
            }
            0xa4 => {
                let mut d = Der::new(gn.value);
                parse_name(d.expect(TAG_SEQUENCE, "directoryName is not a Name")?)?;
                d.finish("extra data in directoryName")?;
            }
            0x88 => check_oid(gn.value)?,
            0x86 | 0x87 | 0xa3 | 0xa5 => {} // URI, IP address, x400Address, ediPartyName
            _ => return Err(Malformed("unknown GeneralName")),
        }
    }
    Ok(())
}

/// Base64 PEM as `PEM_write_bio_X509` writes it.
fn pem(der: &[u8]) -> String {
    const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut b64 = String::with_capacity(der.len() / 3 * 4 + 4);
    for chunk in der.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, b)| acc | (*b as u32) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                b64.push(B64[(n >> (18 - 6 * i) & 0x3f) as usize] as char);
            } else {
                b64.push('=');
            }
        }
    }
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

// ---- the certificate -----------------------------------------------------------

/// The issuer Name of a DER certificate, as encoded (tag, length and contents) and its contents
/// alone, for comparing with the names a server lists as acceptable issuers of client
/// certificates. None if the certificate cannot be read that far.
pub(crate) fn cert_issuer(der: &[u8]) -> Option<(&[u8], &[u8])> {
    fn issuer(der: &[u8]) -> Res<(&[u8], &[u8])> {
        let mut tbs = tbs_at_issuer(der)?;
        if tbs.peek_tag() != Some(TAG_SEQUENCE) {
            return Err(Malformed("issuer is not a Name"));
        }
        let name = tbs.any()?;
        Ok((name.encoded, name.value))
    }
    issuer(der).ok()
}

/// Every variable mod_ssl derives from the certificate `der`, in the order
/// M_VERSION, M_SERIAL, V_START, V_END, S_DN, S_DN_*, I_DN, I_DN_*, A_SIG,
/// A_KEY, SAN_Email_*, SAN_DNS_*, CERT. Variables with empty text are left
/// out (mod_ssl does not set them).
pub fn cert_fields(der: &[u8]) -> Result<Vec<Field>, Malformed> {
    let mut top = Der::new(der);
    let mut cert = Der::new(top.expect(TAG_SEQUENCE, "not a SEQUENCE")?);
    top.finish("data after the certificate")?;
    let mut tbs = Der::new(cert.expect(TAG_SEQUENCE, "TBSCertificate is not a SEQUENCE")?);
    algorithm(cert.expect(TAG_SEQUENCE, "signatureAlgorithm is not a SEQUENCE")?)?;
    check_bit_string(cert.expect(TAG_BIT_STRING, "signature is not a BIT STRING")?)?;
    cert.finish("extra data in Certificate")?;

    let version = match tbs.optional(TAG_VERSION)? {
        None => 0,
        Some(v) => {
            let mut d = Der::new(v);
            let n = d.expect(TAG_INTEGER, "version is not an INTEGER")?;
            d.finish("extra data in version")?;
            match n {
                [v] if *v <= 2 => *v,
                _ => return Err(Malformed("unknown certificate version")),
            }
        }
    };
    let serial = serial_text(tbs.expect(TAG_INTEGER, "serialNumber is not an INTEGER")?)?;
    let sig_alg = algorithm(tbs.expect(TAG_SEQUENCE, "signature is not an AlgorithmIdentifier")?)?;
    let issuer = parse_name(tbs.expect(TAG_SEQUENCE, "issuer is not a Name")?)?;
    let mut validity = Der::new(tbs.expect(TAG_SEQUENCE, "validity is not a SEQUENCE")?);
    let not_before = time_text(&validity.any()?)?;
    let not_after = time_text(&validity.any()?)?;
    validity.finish("extra data in validity")?;
    let subject = parse_name(tbs.expect(TAG_SEQUENCE, "subject is not a Name")?)?;
    let mut spki = Der::new(tbs.expect(TAG_SEQUENCE, "subjectPublicKeyInfo is not a SEQUENCE")?);
    let key_alg = algorithm(spki.expect(TAG_SEQUENCE, "public key algorithm is not a SEQUENCE")?)?;
    check_bit_string(spki.expect(TAG_BIT_STRING, "public key is not a BIT STRING")?)?;
    spki.finish("extra data in subjectPublicKeyInfo")?;
    if let Some(uid) = tbs.optional(TAG_ISSUER_UID)? {
        check_bit_string(uid)?;
    }
    if let Some(uid) = tbs.optional(TAG_SUBJECT_UID)? {
        check_bit_string(uid)?;
    }
    let (mut emails, mut dns, mut upns) = (Vec::new(), Vec::new(), Vec::new());
    if let Some(exts) = tbs.optional(TAG_EXTENSIONS)? {
        let mut outer = Der::new(exts);
        let mut list = Der::new(outer.expect(TAG_SEQUENCE, "extensions are not a SEQUENCE")?);
        outer.finish("extra data after extensions")?;
        let mut seen: Vec<&[u8]> = Vec::new();
        while !list.at_end() {
            let mut ext = Der::new(list.expect(TAG_SEQUENCE, "extension is not a SEQUENCE")?);
            let oid = ext.expect(TAG_OID, "extension type is not an OID")?;
            check_oid(oid)?;
            seen.push(oid);
            if let Some(critical) = ext.optional(TAG_BOOLEAN)? {
                if critical.len() != 1 {
                    return Err(Malformed("malformed BOOLEAN"));
                }
            }
            let value = ext.expect(TAG_OCTET_STRING, "extension value is not an OCTET STRING")?;
            ext.finish("extra data in extension")?;
            if oid == OID_SUBJECT_ALT_NAME {
                parse_san(value, &mut emails, &mut dns, &mut upns)?;
            }
        }
        seen.sort_unstable();
        if seen.windows(2).any(|w| w[0] == w[1]) {
            return Err(Malformed("duplicate extension"));
        }
    }
    tbs.finish("extra data in TBSCertificate")?;

    let mut fields = Vec::new();
    push_field(&mut fields, "M_VERSION", (version + 1).to_string());
    push_field(&mut fields, "M_SERIAL", serial);
    push_field(&mut fields, "V_START", not_before);
    push_field(&mut fields, "V_END", not_after);
    push_name_fields(&mut fields, "S_DN", &subject)?;
    push_name_fields(&mut fields, "I_DN", &issuer)?;
    push_field(&mut fields, "A_SIG", algorithm_name(&sig_alg));
    push_field(&mut fields, "A_KEY", algorithm_name(&key_alg));
    for (kind, list) in [("SAN_Email", emails), ("SAN_DNS", dns), ("SAN_OTHER_msUPN", upns)].iter() {
        for (i, v) in list.iter().filter(|v| !v.is_empty()).enumerate() {
            push_field(&mut fields, &format!("{}_{}", kind, i), v.clone());
        }
    }
    push_field(&mut fields, "CERT", pem(der));
    Ok(fields)
}

/// Receives one certificate variable (rtls_x509_fields): `name` is its name
/// without the "SSL_SERVER_" or "SSL_CLIENT_" prefix, `value` its text
/// (UTF-8). Neither is NUL-terminated; both are valid during the call only.
/// Return 0 to go on, anything else to stop.
pub type rtls_x509_field_fn = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        name: *const c_char,
        name_len: usize,
        value: *const c_char,
        value_len: usize,
    ) -> c_int,
>;

/// The certificate variables mod_ssl sets for a certificate, with mod_ssl's
/// names and values (OpenSSL's formats), computed from its DER (`der_len`
/// bytes at `der`; for a server certificate: rtls_certified_key_cert_der).
/// Parses and formats the whole certificate on every call: call it once per
/// certificate at configuration time and keep the results. cb is called
/// once per variable, with `userdata`, in this order:
///   M_VERSION    "3" for a v3 certificate
///   M_SERIAL     upper-case hex, "-" when negative, a backslash and a
///                newline after every 35 bytes (as openssl x509 -serial)
///   V_START      "Nov  7 02:00:00 2026 GMT" (notBefore)
///   V_END        the same for notAfter
///   S_DN         subject as RFC 2253 text: "CN=www.example.org,O=Example,C=DE"
///   S_DN_<a>     each subject attribute <a> of C ST L O OU CN T I G S D UID
///                Email, in certificate order; from the second attribute of
///                a kind on: S_DN_<a>_1, S_DN_<a>_2, ... (as mod_ssl exports
///                them; mod_ssl's lookups also answer S_DN_<a>_0 for S_DN_<a>
///                and S_DN_SP for S_DN_ST: the caller maps those)
///   I_DN, I_DN_<a>  the same for the issuer
///   A_SIG        signature algorithm, OpenSSL's long name ("UNKNOWN" if none)
///   A_KEY        public key algorithm, likewise
///   SAN_Email_<n>, SAN_DNS_<n>  subjectAltName rfc822Name and dNSName
///                entries, <n> from 0
///   SAN_OTHER_msUPN_<n>  otherName entries of type msUPN
///                (1.3.6.1.4.1.311.20.2.3) whose value is a UTF8String
///   CERT         the certificate as PEM, ending in a newline
/// Variables whose text would be empty are left out (mod_ssl leaves them
/// unset). V_REMAIN depends on the time of the request and is not reported.
/// The certificate is checked completely before cb is first called.
/// Errors: RTLS_CONF_BAD_DER (not a DER X.509 certificate, or one RFC 5280
/// rules out: e.g. times not in "Z" form, invalid strings in names, duplicate
/// extensions, a malformed subjectAltName, OIDs over 586 bytes; cb was not
/// called),
/// RTLS_IO_CALLBACK_FAILED (cb returned non-zero; it is not called again),
/// RTLS_INTERNAL_NULL_ARGUMENT (der NULL with der_len > 0, or cb NULL).
/// Phase: config time.
// Written for rtls.h, where <a> and <n> are placeholders, not HTML.
#[allow(rustdoc::invalid_html_tags)]
#[must_use]
#[no_mangle]
pub extern "C" fn rtls_x509_fields(der: *const u8, der_len: usize, cb: rtls_x509_field_fn, userdata: *mut c_void) -> rtls_result {
    guard(|| {
        let der = try_slice!(der, der_len);
        let cb = match cb {
            Some(cb) => cb,
            None => return RTLS_INTERNAL_NULL_ARGUMENT,
        };
        let fields = match cert_fields(der) {
            Ok(f) => f,
            Err(e) => return e.into(),
        };
        for f in &fields {
            // SAFETY: the callback contract in rtls.h; both buffers live
            // for the duration of the call.
            let rv = unsafe {
                cb(userdata, f.name.as_ptr() as *const c_char, f.name.len(), f.value.as_ptr() as *const c_char, f.value.len())
            };
            if rv != 0 {
                return RTLS_IO_CALLBACK_FAILED;
            }
        }
        RTLS_OK
    })
}

/// notAfter of the certificate `der_len` bytes at `der` in seconds since
/// 1970 into `*out` (for SSL_CLIENT_V_REMAIN, which depends on the time of
/// the request).
/// Errors: RTLS_CONF_BAD_DER (not a certificate, or its notAfter is not an
/// RFC 5280 time), RTLS_INTERNAL_NULL_ARGUMENT.
/// Phase: any time.
#[must_use]
#[no_mangle]
pub extern "C" fn rtls_x509_not_after(der: *const u8, der_len: usize, out: *mut i64) -> rtls_result {
    guard(|| {
        let der = try_slice!(der, der_len);
        if out.is_null() {
            return RTLS_INTERNAL_NULL_ARGUMENT;
        }
        match cert_not_after(der) {
            Ok(t) => {
                unsafe { crate::ffi::set_out(out, t) };
                RTLS_OK
            }
            Err(e) => e.into(),
        }
    })
}

#[cfg(test)]
mod epoch_tests {
    use super::*;

    #[test]
    fn epoch_of_known_times() {
        let t = Tlv { tag: TAG_UTC_TIME, value: b"700101000000Z", encoded: b"" };
        assert_eq!(time_epoch(&t).unwrap(), 0);
        let t = Tlv { tag: TAG_GENERALIZED_TIME, value: b"20260227120000Z", encoded: b"" };
        assert_eq!(time_epoch(&t).unwrap(), 1772193600);
        let t = Tlv { tag: TAG_UTC_TIME, value: b"000229235959Z", encoded: b"" };
        assert_eq!(time_epoch(&t).unwrap(), 951868799);
    }
}
