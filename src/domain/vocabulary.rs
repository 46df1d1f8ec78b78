//! The circuit's closed vocabularies that are not case states: the kinds
//! of file the gateway produces (one policy view each) and the motifs for
//! which a case is not processed. Stored and answered as their names.

use std::fmt;

/// A kind of file the gateway produces, named after the policy view that
/// shapes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    /// To the enricher (CAF), every case of an accepted list.
    Enrichment,
    /// To the concertation members, the cases of their scope.
    Concertation,
    /// To the designated referent, its cases.
    Dossier,
    /// To a case's referent, the steps of its eviction procedure.
    Procedure,
    /// To a partner that already received cases of a list since
    /// withdrawn: the tokens to delete. Not a policy view.
    Retrait,
}

impl FileKind {
    /// Every kind a policy view produces, in the circuit's order
    /// ([`FileKind::Retrait`] is the gateway's own, not a view).
    pub const ALL: [FileKind; 4] = [
        FileKind::Enrichment,
        FileKind::Concertation,
        FileKind::Dossier,
        FileKind::Procedure,
    ];

    /// The name (of the view, of the file kind in the outbox).
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::Enrichment => "enrichment",
            FileKind::Concertation => "concertation",
            FileKind::Dossier => "dossier",
            FileKind::Procedure => "procedure",
            FileKind::Retrait => "retrait",
        }
    }

    /// Parses a name.
    pub fn parse(s: &str) -> Option<FileKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl AsRef<str> for FileKind {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for FileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why the concertation decided not to process a case (docs/convention.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NonTraiteMotif {
    /// The household moved out.
    Demenagement,
    /// The debt was paid.
    DetteSoldee,
    /// Sent to another scheme.
    Reorientation,
    /// Outside the département's sector.
    HorsSecteur,
    /// The tenant died.
    Deces,
}

impl NonTraiteMotif {
    /// Every motif, in the contract's order.
    pub const ALL: [NonTraiteMotif; 5] = [
        NonTraiteMotif::Demenagement,
        NonTraiteMotif::DetteSoldee,
        NonTraiteMotif::Reorientation,
        NonTraiteMotif::HorsSecteur,
        NonTraiteMotif::Deces,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            NonTraiteMotif::Demenagement => "demenagement",
            NonTraiteMotif::DetteSoldee => "dette_soldee",
            NonTraiteMotif::Reorientation => "reorientation",
            NonTraiteMotif::HorsSecteur => "hors_secteur",
            NonTraiteMotif::Deces => "deces",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<NonTraiteMotif> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// The names, joined by `sep` (for messages).
    pub fn names(sep: &str) -> String {
        Self::ALL.map(NonTraiteMotif::as_str).join(sep)
    }
}

impl fmt::Display for NonTraiteMotif {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for k in FileKind::ALL {
            assert_eq!(FileKind::parse(k.as_str()), Some(k));
        }
        for m in NonTraiteMotif::ALL {
            assert_eq!(NonTraiteMotif::parse(m.as_str()), Some(m));
        }
        assert_eq!(FileKind::parse("list"), None);
        assert_eq!(NonTraiteMotif::parse("ok"), None);
    }
}
