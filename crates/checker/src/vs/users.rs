//! Who the virtual servers' scripts (MISC_CHECK, notify_up/down, quorum_up/down) run as,
//! as keepalived decides (`get_default_script_user`): the script's own `user USER [GROUP]`,
//! else global `script_user`, else the `keepalived_script` user when it exists, else the
//! checker's own user (root). A user that cannot be resolved any more (the config was
//! checked in the parent) refuses the run instead of falling back to root.

use crate::scripts::resolve_user;
use keepalived_config::model::{GlobalDefs, Script, ScriptUser};

/// keepalived's default script user when `script_user` is not set.
const DEFAULT_SCRIPT_USER: &str = "keepalived_script";

/// The default uid:gid of scripts without their own `user`; `None` runs them as ourselves.
pub(super) fn default_ids(global: &GlobalDefs) -> Option<(u32, u32)> {
    match &global.script_user {
        Some(u) => match resolve_user(u) {
            Ok(ids) => Some(ids),
            Err(e) => {
                log::error!("script_user: {e} - scripts without their own user will not run as it");
                None
            }
        },
        None => resolve_user(&ScriptUser {
            user: DEFAULT_SCRIPT_USER.into(),
            group: None,
        })
        .ok(),
    }
}

/// The uid and gid `script` runs with (`None`: as ourselves).
pub(super) fn ids(
    script: &Script,
    default: Option<(u32, u32)>,
) -> Result<(Option<u32>, Option<u32>), String> {
    let ids = match &script.user {
        Some(u) => Some(resolve_user(u)?),
        None => default,
    };
    Ok((ids.map(|i| i.0), ids.map(|i| i.1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script(user: Option<(&str, Option<&str>)>) -> Script {
        Script {
            command: "/bin/true".into(),
            argv: vec!["/bin/true".into()],
            user: user.map(|(u, g)| ScriptUser {
                user: u.into(),
                group: g.map(String::from),
            }),
            loc: None,
        }
    }

    #[test]
    fn own_user_then_default() {
        assert_eq!(
            ids(&script(Some(("0", Some("0")))), Some((5, 6))),
            Ok((Some(0), Some(0)))
        );
        assert_eq!(ids(&script(None), Some((5, 6))), Ok((Some(5), Some(6))));
        assert_eq!(ids(&script(None), None), Ok((None, None)));
        assert!(ids(&script(Some(("no-such-user-krs", None))), None).is_err());
    }

    #[test]
    fn script_user_is_the_default() {
        let g = GlobalDefs {
            script_user: Some(ScriptUser {
                user: "nobody".into(),
                group: None,
            }),
            ..GlobalDefs::default()
        };
        let nobody = nix::unistd::User::from_name("nobody").ok().flatten();
        assert_eq!(default_ids(&g).map(|i| i.0), nobody.map(|u| u.uid.as_raw()));
    }
}
