using Diffuse.IO;
using static TorchSharp.torch;

namespace Diffuse.Data;

/// <summary>
/// A folder of MNIST-format IDX files: train-images-idx3-ubyte with train-labels-idx1-ubyte, and
/// optionally t10k-images-idx3-ubyte with t10k-labels-idx1-ubyte, appended after the training
/// images. Names may use "." before "idx" (train-images.idx3-ubyte) and may end in ".gz". Class
/// names are the label values "0" to the largest label.
/// </summary>
static class IdxFolderSource
{
    static readonly string[] Parts = ["train", "t10k"];

    /// <summary>Whether <paramref name="folder"/> holds a training image file.</summary>
    public static bool Holds(string folder) => Directory.Exists(folder) && Find(folder, "train", "images", 3) is not null;

    public static ImageDataset Load(string folder, string name)
    {
        var images = new List<byte[]>();
        var labels = new List<byte[]>();
        int height = 0, width = 0;
        foreach (var part in Parts)
        {
            var imagePath = Find(folder, part, "images", 3);
            if (imagePath is null)
            {
                if (part == "train")
                    throw new DiffuseException($"'{folder}' holds no train-images-idx3-ubyte (or .gz); an IDX folder needs it and train-labels-idx1-ubyte");
                continue;
            }
            var labelPath = Find(folder, part, "labels", 1)
                ?? throw new DiffuseException($"'{folder}' has {Path.GetFileName(imagePath)} but no {part}-labels-idx1-ubyte (or .gz) beside it");
            var imageArray = IdxFile.Read(imagePath, expectedRank: 3);
            var labelArray = IdxFile.Read(labelPath, expectedRank: 1);
            if (imageArray.Dimensions[0] != labelArray.Dimensions[0])
                throw new DiffuseException($"'{imagePath}' holds {imageArray.Dimensions[0]} images but '{labelPath}' holds {labelArray.Dimensions[0]} labels");
            if (height != 0 && (imageArray.Dimensions[1], imageArray.Dimensions[2]) != (height, width))
                throw new DiffuseException($"'{imagePath}' holds {imageArray.Dimensions[1]}x{imageArray.Dimensions[2]} images but the training images are {height}x{width}");
            (height, width) = (imageArray.Dimensions[1], imageArray.Dimensions[2]);
            images.Add(imageArray.Values);
            labels.Add(labelArray.Values);
        }
        var allImages = images.Count == 1 ? images[0] : images.SelectMany(x => x).ToArray();
        var allLabels = Array.ConvertAll(labels.Count == 1 ? labels[0] : labels.SelectMany(x => x).ToArray(), b => (long)b);
        var classCount = allLabels.Length == 0 ? 0 : (int)allLabels.Max() + 1;
        var pixels = tensor(allImages, new long[] { allLabels.Length, 1, height, width }, ScalarType.Byte);
        var labelTensor = tensor(allLabels, ScalarType.Int64);
        return new ImageDataset(name, pixels, labelTensor, Enumerable.Range(0, classCount).Select(i => i.ToString()).ToArray());
    }

    /// <summary>The IDX file of one part and kind, under any of the accepted spellings, or null.</summary>
    static string? Find(string folder, string part, string kind, int rank)
    {
        foreach (var separator in new[] { "-", "." })
        {
            foreach (var suffix in new[] { "", ".gz" })
            {
                var path = Path.Combine(folder, $"{part}-{kind}{separator}idx{rank}-ubyte{suffix}");
                if (File.Exists(path)) return path;
            }
        }
        return null;
    }
}
