//! Touching a list row: swiping it to the left deletes, to the right archives (or the other way
//! round, as the settings say), each with its undo. The row follows the finger; a move that
//! starts mostly vertical is the list scrolling, and a short one springs back. Holding a finger
//! on a row (long-press) checks or unchecks it, as the checkbox does, for the bulk actions.

use std::time::Duration;

use leptos::leptos_dom::helpers::{set_timeout_with_handle, TimeoutHandle};
use leptos::{ev::TouchEvent, prelude::*};

use super::{
    message::after_removal,
    undo::{remove, Removal},
};
use crate::{i18n::Strings, prefs, state::Mail};

/// How far (CSS pixels) a row must travel for the swipe to count.
const FAR_ENOUGH: i32 = 96;
/// How far a finger moves before the direction is decided.
const DECIDE_AFTER: i32 = 8;
/// How long a finger rests on a row, not moving, for a long-press.
const LONG_PRESS: Duration = Duration::from_millis(500);

const LEFT_KEY: &str = "swipe-left";

/// What a swipe to one side does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SwipeAction {
    Delete,
    Archive,
}

impl SwipeAction {
    pub fn key(self) -> &'static str {
        match self {
            SwipeAction::Delete => "delete",
            SwipeAction::Archive => "archive",
        }
    }

    /// What a swipe to the left does (the other side does the other).
    pub fn left() -> Self {
        match prefs::get(LEFT_KEY).as_deref() {
            Some("archive") => SwipeAction::Archive,
            _ => SwipeAction::Delete,
        }
    }

    pub fn set_left(self) {
        prefs::set(LEFT_KEY, self.key());
    }

    fn right() -> Self {
        match Self::left() {
            SwipeAction::Delete => SwipeAction::Archive,
            SwipeAction::Archive => SwipeAction::Delete,
        }
    }
}

/// One row's swipe.
#[derive(Clone, Copy)]
pub struct Swipe {
    /// Where the finger went down.
    start: StoredValue<Option<(i32, i32)>>,
    /// Decided once the finger has moved a little: sideways (`true`) is a swipe.
    sideways: StoredValue<Option<bool>>,
    /// How far the row is shifted now.
    pub offset: RwSignal<i32>,
    /// The long-press about to happen, while the finger rests.
    press: StoredValue<Option<TimeoutHandle>>,
    /// A long-press happened: the touch is not also a tap that opens the message.
    pressed: StoredValue<bool>,
}

impl Swipe {
    pub fn new() -> Self {
        Self {
            start: StoredValue::new(None),
            sideways: StoredValue::new(None),
            offset: RwSignal::new(0),
            press: StoredValue::new(None),
            pressed: StoredValue::new(false),
        }
    }

    /// A finger down on the row of `uid`: a swipe may follow, or, if it rests, a long-press.
    pub fn begin(self, ev: &TouchEvent, mail: Mail, uid: u32) {
        self.start.set_value(first_touch(ev));
        self.sideways.set_value(None);
        self.pressed.set_value(false);
        self.stop_press();
        let pressed = self.pressed;
        let handle = set_timeout_with_handle(
            move || {
                pressed.set_value(true);
                mail.list
                    .checked
                    .update(|checked| match checked.iter().position(|u| *u == uid) {
                        Some(at) => {
                            checked.remove(at);
                        }
                        None => checked.push(uid),
                    });
            },
            LONG_PRESS,
        );
        self.press.set_value(handle.ok());
    }

    fn stop_press(self) {
        if let Some(handle) = self.press.try_update_value(Option::take).flatten() {
            handle.clear();
        }
    }

    pub fn follow(self, ev: &TouchEvent) {
        let (Some((x0, y0)), Some((x, y))) = (self.start.get_value(), first_touch(ev)) else {
            return;
        };
        let (dx, dy) = (x - x0, y - y0);
        if self.sideways.get_value().is_none() && dx.abs().max(dy.abs()) >= DECIDE_AFTER {
            self.sideways.set_value(Some(dx.abs() > dy.abs()));
            self.stop_press(); // a finger that moves is not resting
        }
        // Rows take only vertical pans (`touch-action: pan-y`), so a sideways move is ours.
        if self.sideways.get_value() == Some(true) {
            self.offset.set(dx);
        }
    }

    /// The browser took the touch (a scroll): the row goes back.
    pub fn cancel(self) {
        self.stop_press();
        self.start.set_value(None);
        self.offset.set(0);
    }

    /// How the row is shifted, as a CSS transform.
    pub fn transform(self) -> String {
        match self.offset.get() {
            0 => String::new(),
            dx => format!("translateX({dx}px)"),
        }
    }

    /// The finger is up: a swipe far enough takes the message out of `folder`; after a
    /// long-press, the tap the browser would make of the touch is dropped.
    pub fn end(self, ev: &TouchEvent, mail: Mail, t: &'static Strings, folder: String, uid: u32) {
        self.stop_press();
        if self.pressed.get_value() {
            ev.prevent_default();
        }
        let dx = self.offset.get_untracked();
        self.start.set_value(None);
        if self.sideways.get_value() != Some(true) || dx.abs() < FAR_ENOUGH {
            self.offset.set(0);
            return;
        }
        // Out of sight until the list drops the row (or, if it fails, shows it again).
        self.offset.set(dx.signum() * 2000);
        let action = if dx < 0 {
            SwipeAction::left()
        } else {
            SwipeAction::right()
        };
        let removal = match action {
            SwipeAction::Delete => Removal::Delete,
            SwipeAction::Archive => Removal::Archive,
        };
        remove(mail, t, removal, folder, vec![uid]);
        after_removal(mail, &[uid]);
    }
}

fn first_touch(ev: &TouchEvent) -> Option<(i32, i32)> {
    let touch = ev.touches().get(0)?;
    Some((touch.client_x(), touch.client_y()))
}
