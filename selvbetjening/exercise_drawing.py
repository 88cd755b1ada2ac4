"""Line drawings of a person doing an exercise: one figure drawn from joint angles, the same style for all.

A pose is a handful of angles (trunk lean, shoulder, elbow, hip, knee, ankle); the figure's segment
lengths are fixed, so every exercise shows the same person. Three views:

* ``Side``: seen from the right, facing right; the near limbs dark, the far limbs lighter.
* ``Front``: seen from the front (``from_behind`` for a person facing a kitchen counter beyond them).
* ``Hand``: a close-up of one hand for the hand exercises.

``drawing_svg`` returns a complete SVG document at the given pixel width (the view box is fixed, so
every size is the same drawing). The end position is drawn over a pale copy of the start position, so
the movement shows in one picture. Only shapes and presentation attributes: no script, no style
element, no external reference.
"""

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

WIDTH, HEIGHT = 200, 150
GROUND = 138.0
ANCHOR_X = 100.0

INK = "#1b365d"
FAR_INK = "#7d93ab"
GHOST = "#d3dce6"
PROP = "#6b5b4b"
ACCENT = "#b4410e"
STROKE = 5.0
PROP_STROKE = 2.5

TRUNK, NECK, HEAD = 44.0, 5.0, 8.5
UPPER_ARM, FOREARM = 24.0, 22.0
THIGH, SHIN, HEEL, TOE = 30.0, 30.0, 3.0, 10.0
SHOULDER_HALF, HIP_HALF = 13.0, 7.0

Point = tuple[float, float]


def _down(angle: float) -> Point:
    """Unit vector at ``angle`` degrees from straight down, positive toward the front (right)."""
    radians = math.radians(angle)
    return math.sin(radians), math.cos(radians)


def _add(point: Point, direction: Point, length: float) -> Point:
    return point[0] + direction[0] * length, point[1] + direction[1] * length


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _polyline(points: Iterable[Point], colour: str, width: float = STROKE) -> str:
    coordinates = " ".join(f"{_fmt(x)},{_fmt(y)}" for x, y in points)
    return (
        f'<polyline points="{coordinates}" fill="none" stroke="{colour}" stroke-width="{_fmt(width)}" '
        'stroke-linecap="round" stroke-linejoin="round"/>'
    )


def _circle(centre: Point, radius: float, colour: str, *, fill: str = "#ffffff", width: float = STROKE) -> str:
    return (
        f'<circle cx="{_fmt(centre[0])}" cy="{_fmt(centre[1])}" r="{_fmt(radius)}" fill="{fill}" '
        f'stroke="{colour}" stroke-width="{_fmt(width)}"/>'
    )


@dataclass(frozen=True)
class Side:
    """A pose seen from the right. Angles in degrees: limbs from straight down, positive forward;
    ``*_elbow`` and ``*_knee`` bend the joint (elbow forward, knee backward); ``*_ankle`` points the
    toes down (negative lifts them); ``lean`` tilts the trunk forward from upright; ``lift`` raises the
    lowest point above the floor (standing on a step)."""

    lean: float = 0
    near_arm: float = 0
    near_elbow: float = 10
    far_arm: float = 0
    far_elbow: float = 10
    near_hip: float = 0
    near_knee: float = 0
    near_ankle: float = 0
    far_hip: float = 0
    far_knee: float = 0
    far_ankle: float = 0
    lift: float = 0
    shift: float = 0


@dataclass(frozen=True)
class Front:
    """A pose seen from the front (or from behind). Arms and legs in degrees out to the side from
    straight down (negative toward the middle); ``*_reach`` shortens an arm pointing toward or away
    from the viewer; ``lean`` tilts the trunk to the picture's right; ``turn_head`` and
    ``turn_trunk`` turn the person to the picture's right; ``blades`` is the gap between the shoulder
    blades (seen from behind); ``*_foot_up`` lifts a foot; ``stance`` moves the hips sideways."""

    lean: float = 0
    left_arm: float = 8
    left_elbow: float = 0
    left_reach: float = 1.0
    right_arm: float = 8
    right_elbow: float = 0
    right_reach: float = 1.0
    left_leg: float = 4
    right_leg: float = 4
    left_foot_up: float = 0
    right_foot_up: float = 0
    turn_head: float = 0
    turn_trunk: float = 0
    blades: float = 0
    stance: float = 0
    seated: bool = False


@dataclass(frozen=True)
class Hand:
    """A close-up of a hand: ``spread`` of the fingers (0–1), ``grip`` round a ball (0 open, 1 squeezed),
    ``wring`` of a rolled towel held in both hands (0 straight, 1 twisted)."""

    kind: str
    spread: float = 0
    grip: float = 0
    wring: float = 0


@dataclass(frozen=True)
class Figure:
    """The joints of a posed figure in the picture's coordinates, for drawing it and placing props."""

    lines: list[tuple[list[Point], str]] = field(default_factory=list)
    heads: list[tuple[Point, float]] = field(default_factory=list)
    marks: list[str] = field(default_factory=list)
    joints: dict[str, Point] = field(default_factory=dict)


def _side_figure(pose: Side) -> Figure:
    hip: Point = (0.0, 0.0)
    up = (math.sin(math.radians(pose.lean)), -math.cos(math.radians(pose.lean)))
    shoulder = _add(hip, up, TRUNK)
    neck = _add(shoulder, up, NECK)
    head = _add(neck, up, HEAD)
    joints: dict[str, Point] = {"hip": hip, "shoulder": shoulder, "head": head}
    limbs: dict[str, list[Point]] = {}
    for side in ("near", "far"):
        arm = getattr(pose, f"{side}_arm")
        elbow = _add(shoulder, _down(arm), UPPER_ARM)
        hand = _add(elbow, _down(arm + getattr(pose, f"{side}_elbow")), FOREARM)
        limbs[f"{side}_arm"] = [shoulder, elbow, hand]
        joints[f"{side}_hand"] = hand
        joints[f"{side}_elbow"] = elbow
        thigh = getattr(pose, f"{side}_hip")
        knee = _add(hip, _down(thigh), THIGH)
        shin = thigh - getattr(pose, f"{side}_knee")
        ankle = _add(knee, _down(shin), SHIN)
        foot = _down(shin + 90 - getattr(pose, f"{side}_ankle"))
        sole = (-foot[1], foot[0])
        heel = _add(_add(ankle, foot, -HEEL), sole, 2.5)
        toe = _add(_add(ankle, foot, TOE), sole, 2.5)
        limbs[f"{side}_leg"] = [hip, knee, ankle, heel, toe, ankle]
        joints.update({f"{side}_knee": knee, f"{side}_heel": heel, f"{side}_toe": toe})
    lowest = max(y for line in limbs.values() for _, y in line)
    lowest = max(lowest, hip[1] + 3, shoulder[1] + 3, head[1] + HEAD)
    dx = ANCHOR_X - joints["far_toe"][0] + pose.shift
    dy = GROUND - pose.lift - lowest

    def moved(point: Point) -> Point:
        return point[0] + dx, point[1] + dy

    figure = Figure(joints={name: moved(point) for name, point in joints.items()})
    for side, colour in (("far", FAR_INK), ("near", INK)):
        if side == "near":
            figure.lines.append(([moved(hip), moved(shoulder), moved(neck)], INK))
        figure.lines.append(([moved(point) for point in limbs[f"{side}_leg"]], colour))
        figure.lines.append(([moved(point) for point in limbs[f"{side}_arm"]], colour))
    figure.heads.append((moved(head), HEAD))
    return figure


def _front_figure(pose: Front, *, from_behind: bool) -> Figure:
    hip: Point = (pose.stance, 0.0)
    tilt = math.radians(pose.lean)
    up = (math.sin(tilt), -math.cos(tilt))
    across = (math.cos(tilt), math.sin(tilt))
    shoulder_half = SHOULDER_HALF * max(0.35, math.cos(math.radians(pose.turn_trunk)))
    shoulder_mid = _add(hip, up, TRUNK)
    neck = _add(shoulder_mid, up, NECK)
    head = _add(neck, up, HEAD)
    joints: dict[str, Point] = {"hip": hip, "head": head}
    lines: list[tuple[list[Point], str]] = []
    # "left" is the picture's left; the person's sides swap when seen from the front, not in a drawing.
    for sign, side in ((-1, "left"), (1, "right")):
        shoulder = _add(shoulder_mid, across, sign * shoulder_half)
        reach = getattr(pose, f"{side}_reach")
        arm = getattr(pose, f"{side}_arm")
        direction = _down(sign * arm + pose.lean)
        elbow = _add(shoulder, direction, UPPER_ARM * reach)
        hand = _add(elbow, _down(sign * (arm - getattr(pose, f"{side}_elbow")) + pose.lean), FOREARM * reach)
        lines.append(([shoulder, elbow, hand], INK))
        joints[f"{side}_hand"] = hand
        joints[f"{side}_shoulder"] = shoulder
        hip_joint = _add(hip, (1.0, 0.0), sign * HIP_HALF)
        if pose.seated:
            knee = _add(hip_joint, (0.0, 1.0), 6)
            ankle = _add(knee, _down(sign * getattr(pose, f"{side}_leg")), SHIN)
        else:
            knee = _add(hip_joint, _down(sign * getattr(pose, f"{side}_leg")), THIGH)
            ankle = _add(knee, _down(sign * getattr(pose, f"{side}_leg")), SHIN)
        foot_up = getattr(pose, f"{side}_foot_up")
        if foot_up:
            knee = (knee[0], knee[1] - foot_up * 0.5)
            ankle = (ankle[0], ankle[1] - foot_up)
        toe = _add(ankle, (1.0, 0.0), sign * 7)
        lines.append(([hip_joint, knee, ankle, toe], INK))
        joints[f"{side}_foot"] = ankle
    lines.append(([_add(hip, (1.0, 0.0), -HIP_HALF), _add(hip, (1.0, 0.0), HIP_HALF)], INK))
    left_shoulder, right_shoulder = joints["left_shoulder"], joints["right_shoulder"]
    lines.append(([hip, shoulder_mid, neck], INK))
    lines.append(([left_shoulder, right_shoulder], INK))
    lowest = max(y for line, _ in lines for _, y in line) + 2.5
    dx = ANCHOR_X
    dy = GROUND - lowest

    def moved(point: Point) -> Point:
        return point[0] + dx, point[1] + dy

    figure = Figure(joints={name: moved(point) for name, point in joints.items()})
    figure.lines.extend(([moved(point) for point in line], colour) for line, colour in lines)
    centre = moved(head)
    figure.heads.append((centre, HEAD))
    if pose.blades and from_behind:
        for sign in (-1, 1):
            x = centre[0] + sign * (pose.blades / 2 + 3)
            top = moved(shoulder_mid)[1] + 5
            figure.marks.append(_polyline([(x + sign * 3, top), (x, top + 4), (x + sign * 2, top + 12)], ACCENT, 2.5))
    if not from_behind:
        turn = math.sin(math.radians(pose.turn_head))
        for offset in (-0.45, 0.45):
            eye = (centre[0] + HEAD * 0.75 * math.sin(math.asin(turn) + offset), centre[1] - 1.5)
            figure.marks.append(_circle(eye, 0.9, INK, fill=INK, width=0.5))
        nose = centre[0] + HEAD * 0.8 * turn
        figure.marks.append(_polyline([(nose, centre[1] - 0.5), (nose + turn * 2.5, centre[1] + 2.5)], INK, 1.6))
    return figure


def _figure(pose: Side | Front, view: str) -> Figure:
    if isinstance(pose, Side):
        return _side_figure(pose)
    return _front_figure(pose, from_behind=view == "back")


def _draw_figure(figure: Figure, *, ghost: bool = False) -> list[str]:
    parts = [_polyline(points, GHOST if ghost else colour) for points, colour in figure.lines]
    parts += [_circle(centre, radius, GHOST if ghost else INK) for centre, radius in figure.heads]
    if not ghost:
        parts += figure.marks
    return parts


def _rect(x: float, y: float, width: float, height: float, *, fill: str = "none") -> str:
    return (
        f'<rect x="{_fmt(x)}" y="{_fmt(y)}" width="{_fmt(width)}" height="{_fmt(height)}" rx="1.5" '
        f'fill="{fill}" stroke="{PROP}" stroke-width="{_fmt(PROP_STROKE)}"/>'
    )


def _props(names: Iterable[str], start: Figure, shown: Figure, view: str) -> tuple[list[str], list[str]]:
    """Drawn behind the figure, and in front of it (what the hands hold, pale where the start pose held
    it when the end pose is shown). Fixed things are placed from the start pose."""
    held_by = [(start, GHOST), (shown, None)] if shown is not start else [(shown, None)]
    behind: list[str] = []
    front: list[str] = []
    joints = start.joints
    for name in names:
        if name == "chair" and view == "side":
            seat_x, seat_y = joints["hip"][0], joints["hip"][1] + 3.5
            behind.append(_polyline([(seat_x - 12, seat_y - 34), (seat_x - 12, GROUND)], PROP, PROP_STROKE))
            behind.append(_polyline([(seat_x - 12, seat_y), (seat_x + 14, seat_y), (seat_x + 14, GROUND)], PROP, 3))
        elif name == "chair":
            seat_y = joints["hip"][1] + 3.5
            behind.append(_rect(ANCHOR_X - 16, seat_y - 36, 32, 36))
            behind.append(_polyline([(ANCHOR_X - 18, seat_y), (ANCHOR_X + 18, seat_y)], PROP, 3))
            behind.append(_polyline([(ANCHOR_X - 16, seat_y), (ANCHOR_X - 16, GROUND)], PROP, PROP_STROKE))
            behind.append(_polyline([(ANCHOR_X + 16, seat_y), (ANCHOR_X + 16, GROUND)], PROP, PROP_STROKE))
        elif name in ("table", "table-far") and view == "side":
            hand = joints["far_hand" if name == "table-far" else "near_hand"]
            top = hand[1] + 2.5
            behind.append(_rect(hand[0] - 4, top, 46, 4, fill="#efe6da"))
            behind.append(_polyline([(hand[0] + 2, top + 4), (hand[0] + 2, GROUND)], PROP, PROP_STROKE))
            behind.append(_polyline([(hand[0] + 36, top + 4), (hand[0] + 36, GROUND)], PROP, PROP_STROKE))
        elif name == "table":
            top = max(joints["left_hand"][1], joints["right_hand"][1]) + 1
            behind.append(_rect(ANCHOR_X - 45, top, 90, GROUND - top, fill="#efe6da"))
        elif name == "desk":
            top = joints["hip"][1] - 8
            behind.append(_rect(ANCHOR_X - 60, top, 120, 5, fill="#efe6da"))
        elif name == "wall":
            x = joints["near_hand"][0] + 3.5
            behind.append(_polyline([(x, 20), (x, GROUND)], PROP, 3))
            behind.append(_polyline([(x + 2, 24), (x + 8, 18)], PROP, 1.2))
        elif name in ("stairs", "step"):
            x = joints["near_toe"][0] + 6 if name == "stairs" else joints["near_toe"][0] - 16
            steps = 4 if name == "stairs" else 1
            points: list[Point] = [(x, GROUND)]
            for step in range(steps):
                y = GROUND - 12 * (step + 1)
                points += [(x + 22 * step, y), (x + 22 * (step + 1), y)]
            points.append((points[-1][0], GROUND))
            behind.append(_polyline(points, PROP, 3))
            behind.append(_polyline([(x - 14, GROUND - 50), (x + 22 * steps, GROUND - 50 - 12 * steps)], PROP, 2))
        elif name == "stick":
            hand = shown.joints["near_hand"]
            front.append(_polyline([hand, (hand[0] + 4, GROUND)], PROP, 3))
        elif name == "bed":
            behind.append(_rect(20, GROUND, 160, 8, fill="#efe6da"))
        elif name == "door":
            x = 182.0
            behind.append(_polyline([(x, 10), (x, GROUND)], PROP, 3))
            behind.append(_polyline([(x, 80), (x - 7, 80)], PROP, 3))
        elif name == "band-door":
            for figure, ink in held_by:
                front.append(_polyline([figure.joints["near_hand"], (175, 80)], ink or ACCENT, 2))
        elif name == "band-hands":
            for figure, ink in held_by:
                front.append(_polyline([figure.joints["left_hand"], figure.joints["right_hand"]], ink or ACCENT, 2.5))
        elif name == "weights":
            for figure, ink in held_by:
                for side in ("near", "far"):
                    x, y = figure.joints[f"{side}_hand"]
                    front.append(_polyline([(x - 4, y), (x + 4, y)], ink or PROP, 5))
        else:
            raise ValueError(f"unknown prop {name!r}")
    return behind, front


def _movement_arrow(start: Figure, end: Figure) -> list[str]:
    """An arrow beside the part of the body that moves the most, from where it starts toward where it
    ends, so the first picture already shows what is going to move."""
    moves = []
    for name, (x, y) in start.joints.items():
        if name in end.joints:
            to_x, to_y = end.joints[name]
            moves.append((math.hypot(to_x - x, to_y - y), name))
    if not moves:
        return []
    distance, name = max(moves)
    if distance < 1:
        return []
    (x, y), (to_x, to_y) = start.joints[name], end.joints[name]
    unit = ((to_x - x) / distance, (to_y - y) / distance)
    side = (-unit[1] * 7, unit[0] * 7)
    length = max(min(distance, 40.0), 14.0)
    tail = (x + side[0], y + side[1])
    tip = (tail[0] + unit[0] * length, tail[1] + unit[1] * length)
    barb = 5.0
    head = [
        (tip[0] - unit[0] * barb + unit[1] * barb * 0.8, tip[1] - unit[1] * barb - unit[0] * barb * 0.8),
        tip,
        (tip[0] - unit[0] * barb - unit[1] * barb * 0.8, tip[1] - unit[1] * barb + unit[0] * barb * 0.8),
    ]
    return [_polyline([tail, tip], ACCENT, 2.2), _polyline(head, ACCENT, 2.2)]


def _badge(number: int) -> str:
    return (
        f'<circle cx="14" cy="14" r="10" fill="{INK}"/>'
        f'<text x="14" y="18.5" font-family="sans-serif" font-size="13" font-weight="bold" fill="#ffffff" '
        f'text-anchor="middle">{number}</text>'
    )


def _hand_parts(pose: Hand, *, ghost: bool = False) -> list[str]:
    ink = GHOST if ghost else INK
    parts: list[str] = []
    if pose.kind == "spread":
        palm = (100.0, 100.0)
        parts.append(_rect(55, 118, 90, 6, fill="#efe6da"))
        parts.append(
            f'<ellipse cx="100" cy="100" rx="20" ry="18" fill="#ffffff" stroke="{ink}" stroke-width="{STROKE}"/>'
        )
        angles = (-70, -24, -8, 8, 24)
        for index, angle in enumerate(angles):
            spread_angle = angle * (0.45 + 0.9 * pose.spread) if index else -70 + 25 * (1 - pose.spread)
            length = (26, 38, 42, 38, 30)[index]
            base = _add(palm, (math.sin(math.radians(spread_angle)), -math.cos(math.radians(spread_angle))), 16)
            tip = _add(base, (math.sin(math.radians(spread_angle)), -math.cos(math.radians(spread_angle))), length)
            parts.append(_polyline([base, tip], ink, 6))
    elif pose.kind == "grip":
        squeeze = pose.grip
        ball_rx, ball_ry = 17 - 4 * squeeze, 17 - 1 * squeeze
        parts.append(_polyline([(30, 100), (78, 96)], ink, 12))
        parts.append(
            f'<ellipse cx="{_fmt(96 + 2 * squeeze)}" cy="92" rx="{_fmt(ball_rx)}" ry="{_fmt(ball_ry)}" '
            f'fill="{GHOST if ghost else "#f2c9a6"}" stroke="{PROP if not ghost else GHOST}" stroke-width="2"/>'
        )
        for index in range(4):
            y = 78 + index * 8
            reach = 20 - 8 * squeeze
            parts.append(
                _polyline([(80, y + 4), (96 + reach * 0.7, y - 2), (110 + reach * 0.3 - 12 * squeeze, y + 6)], ink, 5)
            )
        parts.append(_polyline([(80, 104), (100 - 6 * squeeze, 112 - 4 * squeeze)], ink, 6))
    elif pose.kind == "towel":
        twist = pose.wring
        parts.append(_rect(40, 88, 120, 18, fill="#ffffff" if not ghost else "none"))
        for index in range(7):
            x = 52.0 + index * 16
            parts.append(_polyline([(x - 6 * twist, 89), (x + 6 * twist, 105)], GHOST if ghost else PROP, 1.5))
        for centre_x, sign in ((72.0, -1), (128.0, 1)):
            turn = sign * 28 * twist
            parts.append(
                f'<ellipse cx="{_fmt(centre_x)}" cy="97" rx="10" ry="15" '
                f'transform="rotate({_fmt(turn)} {_fmt(centre_x)} 97)" '
                f'fill="#ffffff" stroke="{ink}" stroke-width="{STROKE}"/>'
            )
            parts.append(_polyline([(centre_x, 112), (centre_x + sign * 10 * twist, 140)], ink, 10))
    else:
        raise ValueError(f"unknown hand picture {pose.kind!r}")
    return parts


def drawing_svg(
    *,
    view: str,
    start: Side | Front | Hand,
    end: Side | Front | Hand,
    position: str,
    props: tuple[str, ...] = (),
    title: str,
    width: int,
) -> str:
    """The start (``position="start"``) or end picture of an exercise, ``width`` pixels wide."""
    if position not in ("start", "end"):
        raise ValueError("position is start or end")
    body: list[str] = []
    if isinstance(start, Hand) and isinstance(end, Hand):
        if position == "end":
            body += _hand_parts(start, ghost=True)
        body += _hand_parts(start if position == "start" else end)
    elif not isinstance(start, Hand) and not isinstance(end, Hand):
        start_figure, end_figure = _figure(start, view), _figure(end, view)
        shown = start_figure if position == "start" else end_figure
        behind, held = _props(props, start_figure, shown, view)
        body.append(_polyline([(8, GROUND + 1.5), (WIDTH - 8, GROUND + 1.5)], PROP, 1.5))
        body += behind
        if position == "end":
            body += _draw_figure(start_figure, ghost=True)
        body += _draw_figure(shown)
        if position == "start":
            body += _movement_arrow(start_figure, end_figure)
        body += held
    else:
        raise ValueError("start and end are drawn in the same view")
    body.append(_badge(1 if position == "start" else 2))
    height = round(width * HEIGHT / WIDTH)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img"><title>{escape(title)}</title>'
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>{"".join(body)}</svg>'
    )
