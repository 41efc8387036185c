namespace Diffuse.Evaluation;

/// <summary>
/// The JSON written next to a cached classifier's weights: what it was trained on and how. A cache
/// entry is used only when all of it matches the request.
/// </summary>
internal sealed record ClassifierCacheEntry
{
    public const int CurrentFormat = 1;
    public int Format { get; init; } = CurrentFormat;
    public string DatasetKey { get; init; } = "";
    /// <summary>The image and label counts and a SHA-256 of the training and validation tensors (see <see cref="ClassifierCache.Fingerprint"/>).</summary>
    public string DataFingerprint { get; init; } = "";
    public ClassifierSpec Spec { get; init; } = new();
    public double ValidationAccuracy { get; init; }
}
