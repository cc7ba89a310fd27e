//! A member's own setting of how much of a conversation asks for their attention.

string_enum!(
    /// Everything, only mentions of them (and urgent messages), or nothing. Push notifications
    /// do not exist yet: the web client uses it for unread badges and sounds.
    NotifyLevel {
        All => "all",
        Mentions => "mentions",
        Mute => "mute",
    }
);
