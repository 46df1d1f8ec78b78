//! The steps of an eviction procedure as EXPLOC records them
//! (docs/convention.md "Procedure events", `etape`).

use super::followup::vocabulary;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

vocabulary! {
    /// A step of an eviction procedure (`etape`).
    Etape, field "etape" {
        /// The landlord's summons to court.
        Assignation = "assignation", "Assignation";
        /// The hearing.
        Audience = "audience", "Audience";
        /// Judgment: a payment plan granted.
        JugementDelais = "jugement_delais", "Jugement : délais de paiement";
        /// Judgment: the lease terminated.
        JugementResiliation = "jugement_resiliation", "Jugement : résiliation du bail";
        /// Judgment: the claim rejected.
        JugementRejet = "jugement_rejet", "Jugement : demande rejetée";
        /// The landlord withdrew (the debt settled).
        Desistement = "desistement", "Désistement du bailleur";
        /// The order to leave the premises.
        CommandementQuitter = "commandement_quitter", "Commandement de quitter les lieux";
        /// The landlord asks for the police's help.
        DemandeConcours = "demande_concours", "Demande de concours de la force publique";
        /// The police's help granted.
        OctroiConcours = "octroi_concours", "Octroi du concours de la force publique";
        /// The eviction.
        Expulsion = "expulsion", "Expulsion";
    }
}

impl Etape {
    /// Reads a step as EXPLOC's export writes it: case, accents, spaces
    /// and punctuation ignored, as for headers (`Jugement résiliation` is
    /// `jugement_resiliation`); its French label in words is read too
    /// (`Commandement de quitter les lieux`).
    pub fn parse_loose(s: &str) -> Result<Etape, String> {
        let key = super::header_key(s);
        Self::ALL
            .iter()
            .copied()
            .find(|e| {
                super::header_key(e.as_str()) == key || super::header_key(e.label_fr()) == key
            })
            .ok_or_else(|| {
                Self::parse(s)
                    .err()
                    .unwrap_or_else(|| format!("etape {s:?} is unknown"))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_read_as_explocs_export_writes_them() {
        for e in Etape::ALL {
            assert_eq!(Etape::parse_loose(e.as_str()), Ok(*e));
            assert_eq!(Etape::parse_loose(&e.as_str().to_uppercase()), Ok(*e));
        }
        assert_eq!(
            Etape::parse_loose("Jugement résiliation"),
            Ok(Etape::JugementResiliation)
        );
        assert_eq!(Etape::parse_loose(" ASSIGNATION "), Ok(Etape::Assignation));
        for e in Etape::ALL {
            assert_eq!(Etape::parse_loose(e.label_fr()), Ok(*e), "{}", e.label_fr());
        }
        assert_eq!(
            Etape::parse_loose("Commandement de quitter les lieux"),
            Ok(Etape::CommandementQuitter)
        );
        assert_eq!(Etape::parse_loose("Désistement"), Ok(Etape::Desistement));
        let e = Etape::parse_loose("audiance").unwrap_err();
        assert!(
            e.starts_with("etape \"audiance\" is not one of assignation, audience"),
            "{e}"
        );
    }
}
