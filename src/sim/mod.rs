//! The simulated patient: a closed-loop lumped model of the circulation in cardiogenic shock on VA-ECMO, with an
//! optional IABP or Impella, a coronary branch and sensor models. Pure and deterministic for a given seed.
