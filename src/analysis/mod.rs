//! The trial's endpoints (ENDPOINTS.md sections 3-7): coronary, wave intensity, pressure-volume, supply/demand and
//! clinical arithmetic. Every result carries its method, settings and algorithm version. Pure.
