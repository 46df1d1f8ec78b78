//! The referents' follow-up vocabulary (docs/convention.md "Returns", `followup`):
//! what happened to a household ([`FollowupEvent`]) and why a follow-up was
//! closed ([`ClosingMotif`]).
//!
//! Each word is parsed once, where a return is read; the rest of the
//! gateway compares enums. The codes (`appel_reussi`, `sans_suite`…) are
//! the exchange format and the text stored in the database: they never
//! change. The French labels are for people (the console).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Defines a closed vocabulary: the enum, its codes and labels, `ALL`,
/// `as_str`, `parse`/`FromStr` (the error names `$field` and lists every
/// code, as the reader reports it) and `Display` (the code).
macro_rules! vocabulary {
    (
        $(#[$meta:meta])*
        $name:ident, field $field:literal {
            $( $(#[$vmeta:meta])* $variant:ident = $code:literal, $label:literal; )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every value, in the contract's order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The code, as exchanged in files and stored.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $code,)+
                }
            }

            /// The French label shown to people.
            pub fn label_fr(self) -> &'static str {
                match self {
                    $($name::$variant => $label,)+
                }
            }

            /// Parses a code, exactly as written in the contract (no case
            /// folding: a file is read the same way everywhere).
            pub fn parse(s: &str) -> Result<Self, String> {
                match s {
                    $($code => Ok($name::$variant),)+
                    _ => Err(format!(
                        "{} {s:?} is not one of {}",
                        $field,
                        Self::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
                    )),
                }
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                Self::parse(s)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub(crate) use vocabulary;

vocabulary! {
    /// What a referent reports about a household (`evenement`).
    FollowupEvent, field "evenement" {
        /// A call that reached the household.
        AppelReussi = "appel_reussi", "Appel réussi";
        /// A call nobody answered.
        AppelSansReponse = "appel_sans_reponse", "Appel sans réponse";
        /// A letter sent.
        CourrierEnvoye = "courrier_envoye", "Courrier envoyé";
        /// A home visit.
        Visite = "visite", "Visite à domicile";
        /// An appointment made.
        RdvFixe = "rdv_fixe", "Rendez-vous fixé";
        /// An appointment kept.
        RdvHonore = "rdv_honore", "Rendez-vous honoré";
        /// An appointment missed.
        RdvNonHonore = "rdv_non_honore", "Rendez-vous non honoré";
        /// Accompaniment axis: FSL (housing solidarity fund) application.
        AxeFsl = "axe_fsl", "Axe : demande FSL";
        /// Accompaniment axis: debt repayment plan with the landlord.
        AxePlanApurement = "axe_plan_apurement", "Axe : plan d'apurement";
        /// Accompaniment axis: over-indebtedness file (Banque de France).
        AxeBdf = "axe_bdf", "Axe : dossier Banque de France";
        /// Accompaniment axis: a social measure (ASLL, AEB, MASP…).
        AxeMesure = "axe_mesure", "Axe : mesure d'accompagnement";
        /// Accompaniment axis: Action Logement aid.
        AxeActionLogement = "axe_action_logement", "Axe : aide Action Logement";
        /// Accompaniment axis: social-housing application.
        AxeLogementSocial = "axe_logement_social", "Axe : demande de logement social";
        /// Accompaniment axis: budget coaching.
        AxeBudget = "axe_budget", "Axe : accompagnement budgétaire";
        /// Court: the landlord's summons.
        Assignation = "assignation", "Assignation";
        /// Court: the hearing.
        Audience = "audience", "Audience";
        /// Court: the lease terminated.
        ResiliationBail = "resiliation_bail", "Résiliation du bail";
        /// Court: the order to leave the premises.
        CommandementQuitter = "commandement_quitter", "Commandement de quitter les lieux";
        /// Court: the eviction.
        Expulsion = "expulsion", "Expulsion";
        /// The debt is paid off.
        DetteSoldee = "dette_soldee", "Dette soldée";
        /// The follow-up is closed (with a [`ClosingMotif`]).
        Cloture = "cloture", "Clôture du suivi";
    }
}

impl FollowupEvent {
    /// The events that mean the household was reached (a successful call,
    /// a visit, a kept appointment), for queries that select them by code.
    pub const CONTACTS: &'static [FollowupEvent] = &[
        FollowupEvent::AppelReussi,
        FollowupEvent::Visite,
        FollowupEvent::RdvHonore,
    ];

    /// The household was reached (one of [`FollowupEvent::CONTACTS`]):
    /// what moves an attributed case to `contacted`, what the statistics'
    /// first-contact delay counts and what the alerts' "not reached" list
    /// looks for.
    pub fn is_contact(self) -> bool {
        Self::CONTACTS.contains(&self)
    }

    /// A step of the eviction procedure in court (`assignation` to
    /// `expulsion`).
    pub fn is_court(self) -> bool {
        matches!(
            self,
            FollowupEvent::Assignation
                | FollowupEvent::Audience
                | FollowupEvent::ResiliationBail
                | FollowupEvent::CommandementQuitter
                | FollowupEvent::Expulsion
        )
    }

    /// An accompaniment axis (`axe_…`).
    pub fn is_axis(self) -> bool {
        matches!(
            self,
            FollowupEvent::AxeFsl
                | FollowupEvent::AxePlanApurement
                | FollowupEvent::AxeBdf
                | FollowupEvent::AxeMesure
                | FollowupEvent::AxeActionLogement
                | FollowupEvent::AxeLogementSocial
                | FollowupEvent::AxeBudget
        )
    }
}

vocabulary! {
    /// Why a referent closed a follow-up (`motif`, required with `cloture`).
    ClosingMotif, field "motif" {
        /// The household did not respond to any contact.
        SansSuite = "sans_suite", "Sans suite";
        /// The household moved.
        Demenagement = "demenagement", "Déménagement";
        /// The debt is paid off.
        DetteSoldee = "dette_soldee", "Dette soldée";
        /// Handed over to another service.
        Reorientation = "reorientation", "Réorientation";
        /// The dwelling is outside the area.
        HorsSecteur = "hors_secteur", "Hors secteur";
        /// The tenant died.
        Deces = "deces", "Décès";
        /// Another reason.
        Autre = "autre", "Autre";
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips_through_parse_serde_and_display() {
        for e in FollowupEvent::ALL {
            assert_eq!(FollowupEvent::parse(e.as_str()), Ok(*e));
            assert_eq!(e.to_string().parse::<FollowupEvent>(), Ok(*e));
            let json = serde_json::to_string(e).unwrap();
            assert_eq!(json, format!("\"{}\"", e.as_str()));
            assert_eq!(serde_json::from_str::<FollowupEvent>(&json).unwrap(), *e);
            assert!(!e.label_fr().is_empty());
        }
        for m in ClosingMotif::ALL {
            assert_eq!(ClosingMotif::parse(m.as_str()), Ok(*m));
            let json = serde_json::to_string(m).unwrap();
            assert_eq!(json, format!("\"{}\"", m.as_str()));
            assert_eq!(serde_json::from_str::<ClosingMotif>(&json).unwrap(), *m);
        }
    }

    #[test]
    fn the_contract_lists_these_codes_in_this_order() {
        let events: Vec<&str> = FollowupEvent::ALL.iter().map(|e| e.as_str()).collect();
        assert_eq!(
            events.join(", "),
            "appel_reussi, appel_sans_reponse, courrier_envoye, visite, rdv_fixe, rdv_honore, \
             rdv_non_honore, axe_fsl, axe_plan_apurement, axe_bdf, axe_mesure, \
             axe_action_logement, axe_logement_social, axe_budget, assignation, audience, \
             resiliation_bail, commandement_quitter, expulsion, dette_soldee, cloture"
        );
        let motifs: Vec<&str> = ClosingMotif::ALL.iter().map(|m| m.as_str()).collect();
        assert_eq!(
            motifs.join(", "),
            "sans_suite, demenagement, dette_soldee, reorientation, hors_secteur, deces, autre"
        );
    }

    #[test]
    fn labels_are_french_and_distinct() {
        assert_eq!(FollowupEvent::AppelReussi.label_fr(), "Appel réussi");
        assert_eq!(FollowupEvent::CourrierEnvoye.label_fr(), "Courrier envoyé");
        assert_eq!(ClosingMotif::Deces.label_fr(), "Décès");
        let mut labels: Vec<&str> = FollowupEvent::ALL.iter().map(|e| e.label_fr()).collect();
        labels.sort_unstable();
        labels.dedup();
        assert_eq!(labels.len(), FollowupEvent::ALL.len());
    }

    #[test]
    fn contacts_and_axes() {
        let contacts: Vec<&str> = FollowupEvent::ALL
            .iter()
            .filter(|e| e.is_contact())
            .map(|e| e.as_str())
            .collect();
        assert_eq!(contacts, ["appel_reussi", "visite", "rdv_honore"]);
        for e in FollowupEvent::ALL {
            assert_eq!(e.is_axis(), e.as_str().starts_with("axe_"), "{e}");
        }
        let court: Vec<&str> = FollowupEvent::ALL
            .iter()
            .filter(|e| e.is_court())
            .map(|e| e.as_str())
            .collect();
        assert_eq!(
            court,
            [
                "assignation",
                "audience",
                "resiliation_bail",
                "commandement_quitter",
                "expulsion"
            ]
        );
    }

    #[test]
    fn unknown_codes_are_refused_naming_the_field_and_the_choices() {
        let err = FollowupEvent::parse("appel").unwrap_err();
        assert!(err.starts_with("evenement \"appel\" is not one of appel_reussi, "));
        assert!(err.ends_with("dette_soldee, cloture"));
        // Exact codes only, as the reader has always read them.
        assert!(FollowupEvent::parse("Appel_Reussi").is_err());
        assert!(FollowupEvent::parse(" visite").is_err());
        let err = ClosingMotif::parse("fin").unwrap_err();
        assert_eq!(
            err,
            "motif \"fin\" is not one of sans_suite, demenagement, dette_soldee, reorientation, hors_secteur, deces, autre"
        );
        assert!(serde_json::from_str::<ClosingMotif>("\"fin\"").is_err());
    }
}
