namespace Diffuse.Text;

/// <summary>
/// Captions made from a dataset's class names. Digit datasets (classes "0" to "9", as MNIST's) get templates with both
/// number words and numerals ("a handwritten seven", "the digit 7", ...); any other class names get photo-style templates
/// ("a photo of an ankle boot", ...). <see cref="HeldOut"/> gives wordings that no template produces, for measuring how
/// the text encoder generalises.
/// </summary>
public static class CaptionTemplates
{
    static readonly string[] NumberWords = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"];

    // {w}: the number word, {d}: the numeral.
    static readonly string[] DigitTemplates =
    [
        "a handwritten {w}", "a handwritten {d}", "the digit {d}", "the digit {w}", "an image of a {d}",
        "an image of the number {w}", "{w}", "{d}", "a photo of a handwritten digit {d}", "a {w} written by hand",
        "a drawing of the number {d}", "a scan of a {w}",
    ];

    static readonly string[] DigitHeldOut =
    [
        "the number {w}, handwritten", "{d}, written in ink", "a picture showing a {w}", "handwriting of the numeral {d}",
        "someone wrote the digit {w}",
    ];

    // {n}: the class name in lower case, {a}: "a" or "an" before it.
    static readonly string[] ObjectTemplates =
    [
        "a photo of {a} {n}", "{a} {n}", "a picture of {a} {n}", "an image of the {n}", "a black and white photo of {a} {n}",
        "a small photo of the {n}", "the {n}", "a photo of the {n}",
    ];

    static readonly string[] ObjectHeldOut =
    [
        "a close-up photograph of one {n}", "{n}, on a plain background", "a product shot of {a} {n}", "this is {a} {n}",
        "a grayscale picture showing the {n}",
    ];

    /// <summary>True when the classes are the digits "0" to "9" in order.</summary>
    public static bool AreDigits(IReadOnlyList<string> classNames) =>
        classNames.Count == 10 && classNames.Select((name, i) => name == i.ToString(System.Globalization.CultureInfo.InvariantCulture)).All(x => x);

    /// <summary>The training captions of each class: [class][template], the same number of templates for every class.</summary>
    public static string[][] For(IReadOnlyList<string> classNames)
    {
        if (classNames.Count == 0) throw new DiffuseException("caption templates need class names; --cond text needs labelled data or a captions file");
        return classNames.Select((_, k) => Fill(classNames, k, AreDigits(classNames) ? DigitTemplates : ObjectTemplates)).ToArray();
    }

    /// <summary>Wordings of each class that no training template produces: [class][wording].</summary>
    public static string[][] HeldOut(IReadOnlyList<string> classNames) =>
        classNames.Select((_, k) => Fill(classNames, k, AreDigits(classNames) ? DigitHeldOut : ObjectHeldOut)).ToArray();

    /// <summary>
    /// One held-out wording per class (class k gets wording k mod the number of wordings, so the classes share them out):
    /// the built-in prompt set of <c>eval</c> for a text-conditional model.
    /// </summary>
    public static IReadOnlyList<(int Label, string Prompt)> HeldOutPrompts(IReadOnlyList<string> classNames)
    {
        var heldOut = HeldOut(classNames);
        return heldOut.Select((wordings, k) => (k, wordings[k % wordings.Length])).ToArray();
    }

    static string[] Fill(IReadOnlyList<string> classNames, int k, string[] templates)
    {
        string name = classNames[k].ToLowerInvariant();
        string digitWord = k < NumberWords.Length ? NumberWords[k] : name;
        string article = name.Length > 0 && "aeiou".Contains(name[0]) ? "an" : "a";
        return templates.Select(t => t.Replace("{w}", digitWord).Replace("{d}", classNames[k]).Replace("{n}", name).Replace("{a}", article)).ToArray();
    }
}
