using Diffuse.Configuration;
using Diffuse.IO;
using Diffuse.Data;
using Diffuse.Pipelines;
using Diffuse.Training;
using static TorchSharp.torch;

namespace Diffuse.Api;

/// <summary>Images [B, C, H, W] in [-1, 1]: an <see cref="ImageModel"/> (any image network), DPM-Solver++(2M) SDE on Karras sigmas (20 steps) in bfloat16, samples as a PNG grid or one PNG each.</summary>
internal sealed class ImageKind : IDataKind
{
    public static ImageKind Instance { get; } = new();

    public string Name => "images";

    public bool Recognises(ModelConfig config) => config.Data.Image is not null;

    public long[] SampleShape(ModelConfig config)
    {
        var image = config.Data.Image!;
        return [image.Channels, image.Height, image.Width];
    }

    public IDiffusionModel Load(string directory, bool useEma) => ImageModel.Load(directory, useEma);

    public string DefaultSampler => Defaults.ImageSampler;

    public int? DefaultSteps => Defaults.ImageSteps;

    public bool DefaultKarrasSigmas => Defaults.ImageKarrasSigmas;

    public Precision DefaultPrecision => Precision.Bf16;

    /// <summary>bfloat16 converts the weights in place; float32 after it reloads them (the conversion lost their low bits).</summary>
    public IDiffusionModel Prepare(IDiffusionModel model, Precision precision, int batchSize, bool useEma)
    {
        var images = (ImageModel)model;
        var wanted = precision == Precision.Bf16 ? ScalarType.BFloat16 : ScalarType.Float32;
        if (images.Precision != wanted)
        {
            if (precision == Precision.Bf16) images.UseBFloat16();
            else
            {
                var fresh = ImageModel.Load(images.Directory, useEma);
                images.Dispose();
                images = fresh;
            }
        }
        images.BatchSize = batchSize;
        return images;
    }

    public IReadOnlyList<string> OutputExtensions { get; } = [".png"];

    /// <summary>Any dataset name or folder (the loader says when none has it): the kind asked last.</summary>
    public bool TrainsOn(string data) => true;

    /// <summary>The "tiny" U-Net with <see cref="Defaults.ImageTraining"/>, x_0 clipped to [-1, 1]; a run folder with checkpoints, resumable.</summary>
    public TrainResult Train(TrainRequest request, IProgress<TrainProgress>? progress, Action<string>? log, CancellationToken cancel)
    {
        var template = TrainRequests.Template(request, Defaults.ImageTraining, UNetConfig.Preset(Defaults.ImagePreset), clipSample: true);
        var options = new ImageTrainingOptions
        {
            Data = request.Data, OutDir = request.OutDir, Template = request.Resume ? null : template, Force = request.Force,
            Resume = request.Resume, Steps = request.Resume ? request.Steps : null,
            Load = new ImageLoadOptions
            {
                ImageSize = request.ImageSize, MaxImages = request.MaxImages, CacheDir = request.CacheDir, DataDir = request.DataDir,
            },
        };
        var run = ImageTraining.Run(options, progress, log, cancel);
        return new TrainResult(run.Directory, run.EndStep, run.FinalLoss, run.ValidationLoss, run.Parameters, run.Elapsed, run.Interrupted);
    }

    /// <summary>A grid in one PNG, or a folder of 000000.png, 000001.png, ... (<see cref="SampleOutput.Folder"/>).</summary>
    public string WriteSamples(Tensor images, SampleOutput output)
    {
        string label = output.Label.Length == 0 ? "" : $" ({output.Label})";
        if (!output.Folder)
        {
            ImageGrid.WritePng(output.Path, images, output.Columns);
            return $"wrote a grid of {images.shape[0]} images to {output.Path}{label}";
        }
        Directory.CreateDirectory(output.Path);
        var written = ImageGrid.WriteEach(output.Path, images);
        return $"wrote {written.Count} images to {output.Path}{label}";
    }
}
