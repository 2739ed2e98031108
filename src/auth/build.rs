//! Builds a [`Zone`] from records, as a zone file load gives them, and runs the
//! load-time checks of [`super::check`] on the result.
//!
//! Records go straight into the zone's own name tree (owned by the builder alone, so
//! nothing is copied). [`ZoneBuilder::finish`] then walks the names once in canonical
//! order: there a name's descendants follow it, so the names a cut or DNAME occludes
//! are marked with a stack of the cuts above, and every name is checked on the way.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::check::{
    check_apex, check_node, check_ns_alias, check_record, CheckError, CheckErrorKind,
};
use super::name_tree::{NameKey, NameTree};
use super::node::{flags, JoinError, JoinTtl, Node, Occluders, NO_FILE};
use super::zone::Zone;
use crate::wire::name::{
    is_subdomain, label_count, lowercase_into, to_presentation, NAME_BUF_BYTES,
};
use crate::wire::types;

/// Where a record was read: its file and line.
#[derive(Debug, Clone, Copy)]
pub struct SourceLine<'a> {
    /// The file.
    pub file: &'a Path,
    /// The line the record starts on.
    pub line: u32,
}

/// An NS record pointing into the zone, to check once every name is known.
struct NsTarget {
    /// The target name, lowercase.
    target: Box<[u8]>,
    /// The owner of the NS record.
    owner: Box<[u8]>,
    /// Where the NS record was read (file index and line).
    file: u16,
    /// The line.
    line: u32,
}

/// Builds a [`Zone`] from records. See the module doc.
pub struct ZoneBuilder {
    /// The apex, lowercase.
    origin: Box<[u8]>,
    /// Labels in the apex.
    origin_labels: usize,
    /// Names and their RRsets so far.
    names: NameTree<Node>,
    /// Files seen so far.
    files: Vec<PathBuf>,
    /// Records added (duplicates not counted).
    records: usize,
    /// The key of the record being added, reused.
    key: Box<NameKey>,
    /// What the zone loads with, but warned about.
    warnings: Vec<String>,
}

impl ZoneBuilder {
    /// Starts a zone at `origin` (wire format, any case) read from `file` (named in
    /// errors about the zone as a whole, such as a missing SOA).
    pub fn new(origin: &[u8], file: &Path) -> Result<Self, CheckError> {
        let mut key = Box::<NameKey>::default();
        if !key.set(origin) {
            return Err(CheckError {
                file: Some(file.to_path_buf()),
                line: None,
                kind: CheckErrorKind::BadOrigin(to_presentation(origin)),
            });
        }
        let origin: Box<[u8]> = key.name().into();
        let mut names = NameTree::new();
        names.get_or_insert_with(key.full(), Node::default);
        Ok(ZoneBuilder {
            origin_labels: label_count(&origin),
            origin,
            names,
            files: vec![file.to_path_buf()],
            records: 0,
            key,
            warnings: Vec::new(),
        })
    }

    /// Adds one record (owner in wire format, any case). Identical records are merged
    /// (RFC 2181 5); a later member of an RRset keeps the set's first TTL, as BIND and
    /// Knot DNS load zone files.
    pub fn add(
        &mut self,
        owner: &[u8],
        rtype: u16,
        ttl: u32,
        rdata: &[u8],
        source: Option<SourceLine<'_>>,
    ) -> Result<(), CheckError> {
        let at = |kind| CheckError {
            file: source.map(|s| s.file.to_path_buf()),
            line: source.map(|s| s.line),
            kind,
        };
        if !self.key.set(owner) {
            return Err(at(CheckErrorKind::OutOfZone {
                owner: to_presentation(owner),
                origin: to_presentation(&self.origin),
            }));
        }
        match check_record(&self.origin, self.key.name(), rtype, rdata) {
            // As BIND and Knot DNS: a record outside the zone is ignored, with a warning.
            Err(kind @ CheckErrorKind::OutOfZone { .. }) => {
                self.warnings.push(format!("{}; ignored", at(kind)));
                return Ok(());
            }
            Err(kind) => return Err(at(kind)),
            Ok(()) => {}
        }
        let place = match source {
            Some(source) => (self.file_index(source.file), source.line),
            None => (NO_FILE, 0),
        };
        let (node, is_new) = self
            .names
            .get_or_insert_with(self.key.full(), Node::default);
        let added = node
            .join(rtype, ttl, rdata, place, JoinTtl::KeepFirst)
            .map_err(|e| at(join_error(e, owner, rtype)))?;
        if is_new {
            add_empty_ancestors(&mut self.names, &self.key, self.origin_labels, |_| {});
        }
        self.records += usize::from(added);
        Ok(())
    }

    fn file_index(&mut self, file: &Path) -> u16 {
        let index = match self.files.iter().rposition(|f| f == file) {
            Some(i) => i,
            None => {
                self.files.push(file.to_path_buf());
                self.files.len() - 1
            }
        };
        u16::try_from(index).unwrap_or(NO_FILE - 1)
    }

    /// Runs the load-time checks, sets every name's flags and freezes the zone.
    pub fn finish(self) -> Result<Zone, CheckError> {
        let ZoneBuilder {
            origin,
            mut names,
            files,
            records,
            mut key,
            mut warnings,
            ..
        } = self;
        let files: Arc<[PathBuf]> = files.into();
        key.set(&origin);
        check_apex(&origin, names.get(key.full()).map(|l| &l.value), &files)?;

        // One pass in canonical order: flags, per-name checks, NS targets to check.
        let mut occluders: Occluders<Box<[u8]>> = Occluders::new();
        let mut failed: Option<CheckError> = None;
        let mut targets: Vec<NsTarget> = Vec::new();
        let mut lower = [0u8; NAME_BUF_BYTES];
        names.for_each_mut(|name, node| {
            if failed.is_some() {
                return;
            }
            // Sets that grew record by record give back their spare room.
            for set in &mut node.rrsets {
                if set.count > 1 {
                    set.data.shrink_to_fit();
                }
            }
            node.flags = node.own_flags(name == &*origin);
            node.ns_targeted = 0;
            if occluders.visit(name, node.flags, || name.into()) {
                node.flags |= flags::OCCLUDED;
            }
            if let Err((kind, set)) = check_node(name, node) {
                failed = Some(CheckError::at_set(&files, set, kind));
                return;
            }
            if let Some(ns) = node.rrset(types::NS) {
                for target in ns.rdatas() {
                    let target = lowercase_into(target, &mut lower);
                    if is_subdomain(target, &origin) {
                        targets.push(NsTarget {
                            target: target.into(),
                            owner: name.into(),
                            file: ns.file,
                            line: ns.line,
                        });
                    }
                }
            }
        });
        if let Some(e) = failed {
            return Err(e);
        }
        // Glue: every NS target inside the zone should have an address; one without
        // is a warning, as named-checkzone and Knot DNS give it (the zone loads).
        // Each target counts the NS records that point at it. One that is a CNAME or
        // below a DNAME is an error for the apex NS and a warning for a delegation's,
        // as BIND has it (`named-checkzone` loads the second with "(illegal)" logged).
        let mut alias_key = Box::<NameKey>::default();
        for NsTarget {
            target,
            owner,
            file,
            line,
        } in targets
        {
            let glue_missing = || {
                CheckError::at_source(
                    &files,
                    file,
                    line,
                    CheckErrorKind::GlueMissing {
                        owner: to_presentation(&owner),
                        ns: to_presentation(&target),
                    },
                )
            };
            let alias = check_ns_alias(&origin, &owner, &target, |name| {
                if alias_key.set(name) {
                    names.get(alias_key.full()).map(|l| &l.value)
                } else {
                    None
                }
            });
            if let Err(kind) = alias {
                let e = CheckError::at_source(&files, file, line, kind);
                if *owner == *origin {
                    return Err(e);
                }
                // One warning for the target: no "glue missing" besides.
                warnings.push(e.to_string());
                continue;
            }
            if !key.set(&target) {
                warnings.push(glue_missing().to_string());
                continue;
            }
            match names.get_mut(key.full()) {
                Some(node) if node.has_address() => node.ns_targeted += 1,
                _ => warnings.push(glue_missing().to_string()),
            }
        }
        let mut zone =
            Zone::from_names(origin.clone(), names, files.clone(), records).ok_or_else(|| {
                CheckError {
                    file: files.first().cloned(),
                    line: None,
                    kind: CheckErrorKind::NoSoa(to_presentation(&origin)),
                }
            })?;
        zone.warnings = warnings.into();
        Ok(zone)
    }
}

/// The check error of a record that could not join its node.
pub(crate) fn join_error(e: JoinError, owner: &[u8], rtype: u16) -> CheckErrorKind {
    match e {
        JoinError::SecondSoa(line) => CheckErrorKind::SecondSoa(line),
        JoinError::TooManyRecords => CheckErrorKind::TooManyRecords {
            owner: to_presentation(owner),
            rtype: types::type_name(rtype),
        },
    }
}

/// Makes the empty non-terminals between the name of `key` (just added) and the
/// apex (`origin_labels` labels) exist; `on_new` sees each one made.
pub(crate) fn add_empty_ancestors(
    names: &mut NameTree<Node>,
    key: &NameKey,
    origin_labels: usize,
    mut on_new: impl FnMut(&[u8]),
) {
    for labels in (origin_labels + 1..key.labels()).rev() {
        let ancestor = key.ancestor(labels);
        let (_, inserted) = names.get_or_insert_with(ancestor, Node::default);
        if !inserted {
            break;
        }
        on_new(ancestor.name());
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::auth::zone::tests::{build, key, HEAD, ORIGIN};
    use crate::zonefile::{load_zone_text, LoadError};

    fn check_error(body: &str) -> CheckError {
        let text = format!("{HEAD}{body}");
        match load_zone_text(ORIGIN, text.as_bytes(), Path::new("t.zone")) {
            Err(LoadError::Check(e)) => e,
            other => panic!("expected a check error, got {other:?}"),
        }
    }

    #[test]
    fn load_checks() {
        let e = check_error("www CNAME x\nwww A 192.0.2.1\n");
        assert!(matches!(e.kind, CheckErrorKind::CnameBesideData(_)));
        assert_eq!(e.line, Some(5));
        assert_eq!(e.file.as_deref(), Some(Path::new("t.zone")));
        assert!(matches!(
            check_error("www CNAME x\nwww CNAME y\n").kind,
            CheckErrorKind::MultipleCnames(_)
        ));
        // What BIND and Knot DNS load with a warning loads with a warning.
        let zone = build("www.other. A 192.0.2.1\nsub NS ns.sub\n");
        assert_eq!(zone.warnings.len(), 2, "{:?}", zone.warnings);
        assert!(
            zone.warnings[0].contains("t.zone:5") && zone.warnings[0].contains("outside the zone")
        );
        assert!(zone.warnings[1].contains("t.zone:6") && zone.warnings[1].contains("glue missing"));
        assert!(zone.node(b"\x03www\x05other\x00").is_none(), "ignored");
        assert!(matches!(
            check_error("@ SOA ns hm 2 2 3 4 60\n").kind,
            CheckErrorKind::SecondSoa(2)
        ));
        assert!(matches!(
            check_error("@ DS 1 13 2 aabbccdd\n").kind,
            CheckErrorKind::DsAtApex(_)
        ));
        assert!(matches!(
            check_error("www SOA ns hm 2 2 3 4 60\n").kind,
            CheckErrorKind::SoaNotAtApex(_)
        ));
        // An identical trailing SOA, as AXFR dumps end with, is accepted.
        build("@ SOA ns hm 1 2 3 4 60\n");
        let mut b = ZoneBuilder::new(ORIGIN, Path::new("t.zone")).unwrap();
        b.add(key("www").name(), 1, 60, &[1, 2, 3, 4], None)
            .unwrap();
        assert!(matches!(
            b.finish().unwrap_err().kind,
            CheckErrorKind::NoSoa(_)
        ));
        let e =
            load_zone_text(ORIGIN, b"$TTL 1\n@ SOA ns hm 1 2 3 4 5\n", Path::new("x")).unwrap_err();
        assert!(matches!(
            e,
            LoadError::Check(CheckError {
                kind: CheckErrorKind::NoApexNs(_),
                ..
            })
        ));
    }

    /// BIND's zonechecks/cname.db, zonechecks/dname.db and
    /// checkzone/zones/ns-address-below-dname.db.
    #[test]
    fn ns_target_is_no_alias() {
        let e = check_error("@ NS alias\nalias CNAME ns\n");
        assert!(matches!(e.kind, CheckErrorKind::NsIsCname { .. }), "{e}");
        assert_eq!(e.line, Some(3));
        let e = check_error("d DNAME t.\n@ NS ns.x.d\n");
        assert!(matches!(e.kind, CheckErrorKind::NsBelowDname { .. }), "{e}");
        assert!(e.to_string().contains("below the DNAME at 'd."), "{e}");
        // A delegation's NS: a warning, as BIND's
        // checkzone/zones/delegating-ns-address-below-dname.db.
        let zone = build("sub NS alias\nalias CNAME ns\nd DNAME t.\nsub2 NS ns.x.d\n");
        assert_eq!(zone.warnings.len(), 2, "{:?}", zone.warnings);
        assert!(
            zone.warnings[0].contains("is a CNAME"),
            "{:?}",
            zone.warnings
        );
        // A DNAME at the NS target itself is no alias of the target; a cut above
        // the DNAME makes the target glue (checkzone/zones/good1.db), and so does a
        // cut beside it.
        build("sub NS d\nd DNAME t.\nd A 192.0.2.7\n");
        build("sub NS ns.d.sub\nd.sub DNAME t.\nns.d.sub A 192.0.2.8\n");
        build("sub NS ns.sub\nsub DNAME t.\nns.sub A 192.0.2.8\n");
    }

    #[test]
    fn flags_and_glue_counts() {
        let zone = build(
            "sub NS ns.sub\nsub NS ns\nns.sub A 192.0.2.4\nx.ns.sub TXT y\nd DNAME t.\nq.d A 192.0.2.9\n",
        );
        let flags_of = |n: &str| zone.node(key(n).name()).unwrap().flags;
        assert_eq!(flags_of("sub"), flags::CUT);
        assert_eq!(flags_of("ns.sub"), flags::OCCLUDED);
        assert_eq!(flags_of("x.ns.sub"), flags::OCCLUDED);
        assert_eq!(flags_of("d"), flags::DNAME);
        assert_eq!(flags_of("q.d"), flags::OCCLUDED);
        assert_eq!(flags_of("ns"), 0);
        let targeted = |n: &str| zone.node(key(n).name()).unwrap().ns_targeted;
        assert_eq!(targeted("ns"), 2, "the apex NS and sub's");
        assert_eq!(targeted("ns.sub"), 1);
    }
}
