"""Predefined XMP schemas (XMP Specification 2004 for PDF/A-1, 2005 for PDF/A-2/3) and
checks of a property's value against its declared value type.

Types are written as in the XMP specification: ``Text``, ``Integer``, ``Real``,
``Boolean``, ``Date``, ``URI``, ``URL``, ``Rational``, ``GPSCoordinate``, ``Lang Alt``,
``Bag X`` / ``Seq X`` / ``Alt X``, or the name of a structure (``ResourceRef``, ...).
Text-like aliases (``AgentName``, ``ProperName``, ``MIMEType`` ...) are plain Text.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from archive.pdfa.xmp import Node

DC = "http://purl.org/dc/elements/1.1/"
XMP = "http://ns.adobe.com/xap/1.0/"
XMP_RIGHTS = "http://ns.adobe.com/xap/1.0/rights/"
XMP_MM = "http://ns.adobe.com/xap/1.0/mm/"
XMP_BJ = "http://ns.adobe.com/xap/1.0/bj/"
XMP_TPG = "http://ns.adobe.com/xap/1.0/t/pg/"
XMP_DM = "http://ns.adobe.com/xmp/1.0/DynamicMedia/"
PDF = "http://ns.adobe.com/pdf/1.3/"
PHOTOSHOP = "http://ns.adobe.com/photoshop/1.0/"
CRS = "http://ns.adobe.com/camera-raw-settings/1.0/"
TIFF = "http://ns.adobe.com/tiff/1.0/"
EXIF = "http://ns.adobe.com/exif/1.0/"
AUX = "http://ns.adobe.com/exif/1.0/aux/"
PDFAID = "http://www.aiim.org/pdfa/ns/id/"
PDFA_EXTENSION = "http://www.aiim.org/pdfa/ns/extension/"
ST_REF = "http://ns.adobe.com/xap/1.0/sType/ResourceRef#"
ST_EVT = "http://ns.adobe.com/xap/1.0/sType/ResourceEvent#"
ST_VER = "http://ns.adobe.com/xap/1.0/sType/Version#"
ST_JOB = "http://ns.adobe.com/xap/1.0/sType/Job#"
ST_DIM = "http://ns.adobe.com/xap/1.0/sType/Dimensions#"
ST_FNT = "http://ns.adobe.com/xap/1.0/sType/Font#"
XMP_G = "http://ns.adobe.com/xap/1.0/g/"
XMP_GIMG = "http://ns.adobe.com/xap/1.0/g/img/"


def _table(text: str) -> dict[str, str]:
    """``"Name: Type; Name2: Bag Text"`` -> dict."""
    out = {}
    for entry in text.split(";"):
        entry = entry.strip()
        if entry:
            k, v = entry.split(":", 1)
            out[k.strip()] = v.strip()
    return out


# Properties common to XMP 2004 and 2005.
_COMMON: dict[str, dict[str, str]] = {
    DC: _table("""contributor: Bag Text; coverage: Text; creator: Seq Text; date: Seq Date;
        description: Lang Alt; format: Text; identifier: Text; language: Bag Text;
        publisher: Bag Text; relation: Bag Text; rights: Lang Alt; source: Text;
        subject: Bag Text; title: Lang Alt; type: Bag Text"""),
    XMP: _table("""Advisory: Bag Text; BaseURL: URL; CreateDate: Date; CreatorTool: Text;
        Identifier: Bag Text; MetadataDate: Date; ModifyDate: Date; Nickname: Text;
        Thumbnails: Alt Thumbnail"""),
    XMP_RIGHTS: _table("""Certificate: URL; Marked: Boolean; Owner: Bag Text;
        UsageTerms: Lang Alt; WebStatement: URL"""),
    XMP_MM: _table("""DerivedFrom: ResourceRef; DocumentID: URI; History: Seq ResourceEvent;
        InstanceID: URI; ManagedFrom: ResourceRef; Manager: Text; ManageTo: URI;
        ManageUI: URI; ManagerVariant: Text; RenditionClass: Text; RenditionParams: Text;
        VersionID: Text; Versions: Seq Version; LastURL: URL; RenditionOf: ResourceRef;
        SaveID: Integer"""),
    XMP_BJ: _table("JobRef: Bag Job"),
    XMP_TPG: _table("MaxPageSize: Dimensions; NPages: Integer"),
    PDF: _table("Keywords: Text; PDFVersion: Text; Producer: Text"),
    PHOTOSHOP: _table("""AuthorsPosition: Text; CaptionWriter: Text; Category: Text;
        City: Text; Country: Text; Credit: Text; DateCreated: Date; Headline: Text;
        Instructions: Text; Source: Text; State: Text; TransmissionReference: Text;
        Urgency: Integer"""),
    CRS: _table("""AutoBrightness: Boolean; AutoContrast: Boolean; AutoExposure: Boolean;
        AutoShadows: Boolean; BlueHue: Integer; BlueSaturation: Integer; Brightness: Integer;
        CameraProfile: Text; ChromaticAberrationB: Integer; ChromaticAberrationR: Integer;
        ColorNoiseReduction: Integer; Contrast: Integer; CropTop: Real; CropLeft: Real;
        CropBottom: Real; CropRight: Real; CropAngle: Real; CropWidth: Real;
        CropHeight: Real; CropUnits: Integer; Exposure: Real; GreenHue: Integer;
        GreenSaturation: Integer; HasCrop: Boolean; HasSettings: Boolean;
        LuminanceSmoothing: Integer; RawFileName: Text; RedHue: Integer;
        RedSaturation: Integer; Saturation: Integer; Shadows: Integer; ShadowTint: Integer;
        Sharpness: Integer; Temperature: Integer; Tint: Integer; ToneCurve: Seq Text;
        ToneCurveName: Text; Version: Text; VignetteAmount: Integer;
        VignetteMidpoint: Integer; WhiteBalance: Text"""),
    TIFF: _table("""ImageWidth: Integer; ImageLength: Integer; BitsPerSample: Seq Integer;
        Compression: Integer; PhotometricInterpretation: Integer; Orientation: Integer;
        SamplesPerPixel: Integer; PlanarConfiguration: Integer;
        YCbCrSubSampling: Seq Integer; YCbCrPositioning: Integer; XResolution: Rational;
        YResolution: Rational; ResolutionUnit: Integer; TransferFunction: Seq Integer;
        WhitePoint: Seq Rational; PrimaryChromaticities: Seq Rational;
        YCbCrCoefficients: Seq Rational; ReferenceBlackWhite: Seq Rational; DateTime: Date;
        ImageDescription: Lang Alt; Make: Text; Model: Text; Software: Text; Artist: Text;
        Copyright: Lang Alt; NativeDigest: Text"""),
    EXIF: _table("""ExifVersion: Text; FlashpixVersion: Text; ColorSpace: Integer;
        ComponentsConfiguration: Seq Integer; CompressedBitsPerPixel: Rational;
        PixelXDimension: Integer; PixelYDimension: Integer; UserComment: Lang Alt;
        RelatedSoundFile: Text; DateTimeOriginal: Date; DateTimeDigitized: Date;
        ExposureTime: Rational; FNumber: Rational; ExposureProgram: Integer;
        SpectralSensitivity: Text; ISOSpeedRatings: Seq Integer; OECF: OECF;
        ShutterSpeedValue: Rational; ApertureValue: Rational; BrightnessValue: Rational;
        ExposureBiasValue: Rational; MaxApertureValue: Rational; SubjectDistance: Rational;
        MeteringMode: Integer; LightSource: Integer; Flash: Flash; FocalLength: Rational;
        SubjectArea: Seq Integer; FlashEnergy: Rational; SpatialFrequencyResponse: OECF;
        FocalPlaneXResolution: Rational; FocalPlaneYResolution: Rational;
        FocalPlaneResolutionUnit: Integer; SubjectLocation: Seq Integer;
        ExposureIndex: Rational; SensingMethod: Integer; FileSource: Integer;
        SceneType: Integer; CFAPattern: CFAPattern; CustomRendered: Integer;
        ExposureMode: Integer; WhiteBalance: Integer; DigitalZoomRatio: Rational;
        FocalLengthIn35mmFilm: Integer; SceneCaptureType: Integer; GainControl: Integer;
        Contrast: Integer; Saturation: Integer; Sharpness: Integer;
        DeviceSettingDescription: DeviceSettings; SubjectDistanceRange: Integer;
        ImageUniqueID: Text; GPSVersionID: Text; GPSLatitude: GPSCoordinate;
        GPSLongitude: GPSCoordinate; GPSAltitudeRef: Integer; GPSAltitude: Rational;
        GPSTimeStamp: Date; GPSSatellites: Text; GPSStatus: Text; GPSMeasureMode: Integer;
        GPSDOP: Rational; GPSSpeedRef: Text; GPSSpeed: Rational; GPSTrackRef: Text;
        GPSTrack: Rational; GPSImgDirectionRef: Text; GPSImgDirection: Rational;
        GPSMapDatum: Text; GPSDestLatitude: GPSCoordinate; GPSDestLongitude: GPSCoordinate;
        GPSDestBearingRef: Text; GPSDestBearing: Rational; GPSDestDistanceRef: Text;
        GPSDestDistance: Rational; GPSProcessingMethod: Text; GPSAreaInformation: Text;
        GPSDifferential: Integer; NativeDigest: Text"""),
    PDFAID: _table("part: Integer; conformance: Text; amd: Text"),
}

# Added by the XMP Specification 2005 (used by PDF/A-2 and PDF/A-3).
_ADDED_2005: dict[str, dict[str, str]] = {
    XMP: _table("Label: Text; Rating: Real"),
    PHOTOSHOP: _table("SupplementalCategories: Bag Text"),
    XMP_TPG: _table("Fonts: Bag Font; Colorants: Seq Colorant; PlateNames: Seq Text"),
    AUX: _table("Lens: Text; SerialNumber: Text"),
    PDFAID: _table("corr: Text"),
    XMP_DM: _table("""projectRef: ProjectLink; videoFrameRate: Text;
        videoFrameSize: Dimensions; videoPixelAspectRatio: Rational; videoPixelDepth: Text;
        videoColorSpace: Text; videoAlphaMode: Text; videoAlphaPremultipleColor: Colorant;
        videoAlphaUnityIsTransparent: Boolean; videoCompressor: Text; videoFieldOrder: Text;
        pullDown: Text; audioSampleRate: Integer; audioSampleType: Text;
        audioChannelType: Text; audioCompressor: Text; speakerPlacement: Text;
        fileDataRate: Rational; tapeName: Text; altTapeName: Text; startTimecode: Timecode;
        altTimecode: Timecode; duration: Time; scene: Text; shotName: Text; shotDate: Date;
        shotLocation: Text; logComment: Text; markers: Seq Marker; contributedMedia: Bag Media;
        absPeakAudioFilePath: URI; relativePeakAudioFilePath: URI; videoModDate: Date;
        audioModDate: Date; metadataModDate: Date; artist: Text; album: Text;
        trackNumber: Integer; genre: Text; copyright: Text; releaseDate: Date; composer: Text;
        engineer: Text; tempo: Real; instrument: Text; introTime: Time; outCue: Time;
        relativeTimestamp: Time; loop: Boolean; numberOfBeats: Real; key: Text;
        stretchMode: Text; timeScaleParams: TimeScaleStretch;
        resampleParams: ResampleStretch; beatSpliceParams: BeatSpliceStretch;
        timeSignature: Text; scaleType: Text"""),
}

# Structures: name -> (namespace of the fields, fields).
STRUCTS: dict[str, tuple[str, dict[str, str]]] = {
    "ResourceRef": (ST_REF, _table("""instanceID: URI; documentID: URI; versionID: Text;
        renditionClass: Text; renditionParams: Text; manager: Text; managerVariant: Text;
        manageTo: URI; manageUI: URI""")),
    "ResourceEvent": (ST_EVT, _table("""action: Text; instanceID: URI; parameters: Text;
        softwareAgent: Text; when: Date; changed: Text""")),
    "Version": (ST_VER, _table("""comments: Text; event: ResourceEvent; modifyDate: Date;
        modifier: Text; version: Text""")),
    "Job": (ST_JOB, _table("name: Text; id: Text; url: URL")),
    "Dimensions": (ST_DIM, _table("w: Real; h: Real; unit: Text")),
    "Font": (ST_FNT, _table("""fontName: Text; fontFamily: Text; fontFace: Text;
        fontType: Text; versionString: Text; composite: Boolean; fontFileName: Text;
        childFontFiles: Seq Text""")),
    "Colorant": (XMP_G, _table("""swatchName: Text; mode: Text; type: Text; cyan: Real;
        magenta: Real; yellow: Real; black: Real; red: Integer; green: Integer;
        blue: Integer; L: Real; A: Integer; B: Integer""")),
    "Thumbnail": (XMP_GIMG, _table("height: Integer; width: Integer; format: Text; image: Text")),
    "Flash": (EXIF, _table("""Fired: Boolean; Return: Integer; Mode: Integer;
        Function: Boolean; RedEyeMode: Boolean""")),
    "OECF": (EXIF, _table("Columns: Integer; Rows: Integer; Names: Seq Text; "
                          "Values: Seq Rational")),
    "CFAPattern": (EXIF, _table("Columns: Integer; Rows: Integer; Values: Seq Integer")),
    "DeviceSettings": (EXIF, _table("Columns: Integer; Rows: Integer; Settings: Seq Text")),
    "Time": (XMP_DM, _table("value: Integer; scale: Rational")),
    "Timecode": (XMP_DM, _table("timeValue: Text; timeFormat: Text")),
    "Marker": (XMP_DM, _table("""startTime: Time; duration: Time; comment: Text; name: Text;
        location: URI; target: Text; type: Text""")),
    "Media": (XMP_DM, _table("""path: URI; track: Text; startTime: Time; duration: Time;
        managed: Boolean; webStatement: URI""")),
    "ProjectLink": (XMP_DM, _table("type: Text; path: URI")),
    "BeatSpliceStretch": (XMP_DM, _table("""useFileBeatsMarker: Boolean; riseInDecibel: Real;
        riseInTimeDuration: Time""")),
    "ResampleStretch": (XMP_DM, _table("quality: Text")),
    "TimeScaleStretch": (XMP_DM, _table("""quality: Text; frameSize: Real;
        frameOverlappingPercentage: Real""")),
}
_STRUCT_ALIASES = {n.lower(): n for n in STRUCTS}


def predefined(part: int) -> dict[str, dict[str, str]]:
    """Namespace -> property -> type for the XMP version a PDF/A part refers to."""
    out = {ns: dict(props) for ns, props in _COMMON.items()}
    if part == 1:
        # XMP 2004 gave SupplementalCategories as plain Text; 2005 made it a Bag.
        out[PHOTOSHOP]["SupplementalCategories"] = "Text"
    if part >= 2:
        for ns, props in _ADDED_2005.items():
            out.setdefault(ns, {}).update(props)
    if part == 4:
        out[PDFAID]["rev"] = "Integer"
    return out


_TEXT_ALIASES = {"text", "agentname", "propername", "renditionclass", "mimetype", "locale",
                 "xpath", "guid", "realtext", "uri", "url", "choice", "open choice"}
_INTEGER = re.compile(r"[+-]?\d+\Z")
_REAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)\Z")
_RATIONAL = re.compile(r"[+-]?\d+/[+-]?\d+\Z")
_DATE = re.compile(
    r"\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?\Z")
_GPS = re.compile(r"\d{1,3},\d{1,2}(,\d{1,2}(\.\d+)?|\.\d+)[NSEW]\Z")
_SIMPLE: dict[str, Callable[[str], bool]] = {
    "integer": lambda v: _INTEGER.match(v.strip()) is not None,
    "real": lambda v: _REAL.match(v.strip()) is not None,
    "boolean": lambda v: v.strip() in ("True", "False"),
    "date": lambda v: _DATE.match(v.strip()) is not None,
    "rational": lambda v: _RATIONAL.match(v.strip()) is not None,
    "gpscoordinate": lambda v: _GPS.match(v.strip()) is not None,
}


_CHOICE = re.compile(r"(?:open |closed )?(?:choice |choice$)(?:of )?")


def normalise_type(value_type: str) -> str:
    """A value type as veraPDF compares it: spaces collapsed, every "Open/Closed Choice
    of" dropped wherever it stands ("Bag Closed Choice of Text" is "Bag Text"), and an
    empty or bare "Closed Choice" type taken as Text."""
    t = " ".join(value_type.split())
    low = t.lower()
    while True:
        m = _CHOICE.search(low)
        if m is None:
            break
        t = (t[:m.start()] + t[m.end():]).strip()
        low = t.lower()
    return t or "Text"


def is_known_type(value_type: str, custom: dict[str, tuple[str | None, dict[str, str]]]
                  ) -> bool:
    t = normalise_type(value_type)
    low = t.lower()
    if low in _TEXT_ALIASES or low in _SIMPLE or low == "lang alt":
        return True
    head, _, rest = t.partition(" ")
    if head.lower() in ("bag", "seq", "alt") and rest:
        return is_known_type(rest, custom)
    return low in _STRUCT_ALIASES or _custom(custom, t) is not None


def _custom(custom: dict[str, tuple[str | None, dict[str, str]]], name: str
            ) -> tuple[str | None, dict[str, str]] | None:
    """A value type defined by an extension schema, looked up without regard to case."""
    found = custom.get(name)
    if found is None:
        low = name.lower()
        found = next((v for k, v in custom.items() if k.lower() == low), None)
    return found


def check_value(node: Node, value_type: str,
                custom: dict[str, tuple[str | None, dict[str, str]]] | None = None,
                depth: int = 0) -> bool:
    """Does ``node`` have the form and content ``value_type`` requires?

    ``custom`` holds value types defined by PDF/A extension schemas: name -> (field
    namespace or None, field -> type). Unknown types are accepted (their definition is
    checked by the extension-schema rules instead).
    """
    if depth > 20:
        return True
    custom = custom or {}
    t = normalise_type(value_type)
    low = t.lower()
    if low == "lang alt":
        return node.kind == "array" and node.array == "Alt" and all(
            i.kind == "simple" and i.lang for i in node.items)
    head, _, rest = t.partition(" ")
    if head.lower() in ("bag", "seq", "alt") and rest:
        return (node.kind == "array" and node.array == head.capitalize()
                and all(check_value(i, rest, custom, depth + 1) for i in node.items))
    if low in _TEXT_ALIASES:
        return node.kind == "simple"
    if low in _SIMPLE:
        return node.kind == "simple" and _SIMPLE[low](node.text)
    struct = STRUCTS.get(_STRUCT_ALIASES.get(low, ""))
    definition: tuple[str | None, dict[str, str]] | None = (
        (struct[0], struct[1]) if struct else _custom(custom, t))
    if definition is None:
        return True
    ns, fields = definition
    if node.kind != "struct":
        return False
    for f in node.fields:
        if ns is not None and f.ns != ns:
            return False
        ftype = fields.get(f.name)
        if ftype is None:
            return False
        if not check_value(f.node, ftype, custom, depth + 1):
            return False
    return True
