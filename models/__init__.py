"""Domain vocabulary shared by every part of Matchmaker: attendees, events, matches, feedback."""

from models.attendee import Attendee
from models.errors import InvalidInput, MatchmakerError, from_pydantic
from models.event import CHANNELS, ChannelWeights, Event, MatchPolicy
from models.eventfile import EventFile, load_event, parse_event
from models.feedback import EXCLUDING, Feedback, FeedbackKind
from models.match import ItemMatch, Match, Reasons
from models.meetings import (
                             IllegalTransition,
                             Meeting,
                             MeetingRequest,
                             MeetingRequests,
                             MeetingSetup,
                             MustMeet,
                             Schedule,
                             ScheduleReport,
                             check_transition,
                             load_meeting_requests,
                             load_meeting_setup,
                             parse_meeting_requests,
                             parse_meeting_setup,
)
from models.tables import (
                           AgendaEntry,
                           FixedSeat,
                           InfeasibleRules,
                           PlanReport,
                           PlanRound,
                           PlanTable,
                           RepeatPair,
                           RoleMix,
                           TablePlan,
                           TablePlanRequest,
                           TableRules,
                           load_table_rules,
                           parse_table_request,
                           parse_table_rules,
)

__all__ = [
    "Attendee", "CHANNELS", "ChannelWeights", "EXCLUDING", "Event", "EventFile", "Feedback", "FeedbackKind",
    "InvalidInput", "ItemMatch", "Match", "MatchPolicy", "MatchmakerError", "Reasons", "from_pydantic",
    "load_event", "parse_event",
    "AgendaEntry", "FixedSeat", "InfeasibleRules", "PlanReport", "PlanRound", "PlanTable", "RepeatPair", "RoleMix",
    "TablePlan", "TablePlanRequest", "TableRules", "load_table_rules", "parse_table_request", "parse_table_rules",
    "IllegalTransition", "Meeting", "MeetingRequest", "MeetingRequests", "MeetingSetup", "MustMeet", "Schedule",
    "ScheduleReport", "check_transition", "load_meeting_requests", "load_meeting_setup", "parse_meeting_requests",
    "parse_meeting_setup",
]
