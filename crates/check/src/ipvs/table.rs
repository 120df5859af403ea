//! [`IpvsTable`]: services with their destinations, and how each command changes it (the
//! kernel's semantics, so a recorder can show the table a command sequence leaves behind).

use std::collections::BTreeMap;

use super::{Dest, DestKey, IpvsCommand, IpvsError, Service, ServiceKey};

/// One service and its destinations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceEntry {
    /// The service's settings.
    pub service: Service,
    /// Its destinations by address and port.
    pub dests: BTreeMap<DestKey, Dest>,
}

/// An IPVS table: services (keyed, ordered) with their destinations.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IpvsTable {
    services: BTreeMap<ServiceKey, ServiceEntry>,
}

impl IpvsTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces a service (keeping its destinations if it was there) and returns its entry.
    pub fn insert_service(&mut self, service: Service) -> &mut ServiceEntry {
        let entry = self
            .services
            .entry(service.key)
            .or_insert_with(|| ServiceEntry {
                service: service.clone(),
                dests: BTreeMap::new(),
            });
        entry.service = service;
        entry
    }

    /// Adds or replaces a destination of a service; `false` if the service is not there.
    pub fn insert_dest(&mut self, key: &ServiceKey, dest: Dest) -> bool {
        match self.services.get_mut(key) {
            Some(entry) => {
                entry.dests.insert(dest.key(), dest);
                true
            }
            None => false,
        }
    }

    /// Removes a service with its destinations.
    pub fn remove_service(&mut self, key: &ServiceKey) -> Option<ServiceEntry> {
        self.services.remove(key)
    }

    /// Removes a destination.
    pub fn remove_dest(&mut self, key: &ServiceKey, dest: &DestKey) -> Option<Dest> {
        self.services.get_mut(key)?.dests.remove(dest)
    }

    /// A service's entry.
    pub fn get(&self, key: &ServiceKey) -> Option<&ServiceEntry> {
        self.services.get(key)
    }

    /// Services in key order.
    pub fn services(&self) -> impl Iterator<Item = &ServiceEntry> {
        self.services.values()
    }

    /// Number of services.
    pub fn len(&self) -> usize {
        self.services.len()
    }

    /// Whether there are no services.
    pub fn is_empty(&self) -> bool {
        self.services.is_empty()
    }

    /// Carries out `cmd` as the kernel would, refusing what it would refuse (adding what is
    /// there, changing or deleting what is not).
    pub fn apply(&mut self, cmd: &IpvsCommand) -> Result<(), IpvsError> {
        let exists = || IpvsError::Exists {
            command: cmd.to_string(),
        };
        let missing = || IpvsError::NotFound {
            command: cmd.to_string(),
        };
        match cmd {
            IpvsCommand::AddService(svc) => {
                if self.services.contains_key(&svc.key) {
                    return Err(exists());
                }
                self.insert_service(svc.clone());
            }
            IpvsCommand::EditService(svc) => {
                let entry = self.services.get_mut(&svc.key).ok_or_else(missing)?;
                entry.service = svc.clone();
            }
            IpvsCommand::DelService(key) => {
                self.services.remove(key).ok_or_else(missing)?;
            }
            IpvsCommand::AddDest(key, dest) => {
                let entry = self.services.get_mut(key).ok_or_else(missing)?;
                if entry.dests.contains_key(&dest.key()) {
                    return Err(exists());
                }
                entry.dests.insert(dest.key(), *dest);
            }
            IpvsCommand::EditDest(key, dest) => {
                let slot = self
                    .services
                    .get_mut(key)
                    .and_then(|e| e.dests.get_mut(&dest.key()))
                    .ok_or_else(missing)?;
                *slot = *dest;
            }
            IpvsCommand::DelDest(key, dest) => {
                self.remove_dest(key, dest).ok_or_else(missing)?;
            }
            IpvsCommand::Flush => self.services.clear(),
        }
        Ok(())
    }
}

impl std::fmt::Display for IpvsTable {
    /// The table as `ipvsadm -Sn` would save it: one `-A` line per service, then its `-a` lines.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for entry in self.services.values() {
            writeln!(f, "{}", IpvsCommand::AddService(entry.service.clone()))?;
            for dest in entry.dests.values() {
                writeln!(f, "{}", IpvsCommand::AddDest(entry.service.key, *dest))?;
            }
        }
        Ok(())
    }
}
