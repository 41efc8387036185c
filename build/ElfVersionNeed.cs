// Marks one GNU version-need entry of an ELF64 shared library as weak (VER_FLG_WEAK), so that
// the dynamic loader accepts the library on a system whose dependency lacks that version.
//
// Why: TorchSharp 0.107's libLibTorchSharp.so asks for GLIBCXX_3.4.32 only because GCC 13 adds
// a marker symbol, std::ios_base_library_init(), that no relocation uses. Debian 12's libstdc++
// (GCC 12) stops at GLIBCXX_3.4.30, so the loader refuses the library although nothing it calls
// is missing. A weak version need turns that refusal into nothing at all (ld.so only warns for
// weak needs under LD_DEBUG). References: the ELF gABI "Symbol Versioning" chapter of the LSB
// (Elf64_Verneed / Elf64_Vernaux / Elf64_Verdef layouts).
//
// This file is compiled twice: by MSBuild's RoslynCodeTaskFactory as the build task (the class
// at the bottom) and by the test project (with DIFFUSE_TESTS defined) to test the ELF logic.
#nullable enable
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace Diffuse.Build
{
    public enum PatchOutcome { Patched, AlreadyWeak, NotNeeded, EntryAbsent }

    public static class ElfVersionNeed
    {
        public const ushort VerFlgWeak = 0x2;
        const uint ShtGnuVerdef = 0x6ffffffd;
        const uint ShtGnuVerneed = 0x6ffffffe;

        /// <summary>Where the loader would find the system libstdc++ (first hit wins).</summary>
        public static string? FindSystemLibStdCxx()
        {
            var dirs = new List<string>();
            var ldPath = Environment.GetEnvironmentVariable("LD_LIBRARY_PATH");
            if (!string.IsNullOrEmpty(ldPath)) dirs.AddRange(ldPath.Split(':'));
            dirs.AddRange(new[] { "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64", "/usr/lib", "/lib", "/usr/local/lib" });
            foreach (var dir in dirs)
            {
                if (dir.Length == 0) continue;
                var candidate = Path.Combine(dir, "libstdc++.so.6");
                if (File.Exists(candidate)) return candidate;
            }
            return null;
        }

        /// <summary>The version names a shared library defines (its .gnu.version_d section).</summary>
        public static HashSet<string> DefinedVersions(byte[] elf)
        {
            var result = new HashSet<string>(StringComparer.Ordinal);
            foreach (var sec in Sections(elf))
            {
                if (sec.Type != ShtGnuVerdef) continue;
                var strtab = Sections(elf)[(int)sec.Link];
                long off = sec.Offset;
                for (uint i = 0; i < sec.Info; i++)
                {
                    Check(elf, off, 20);
                    ushort cnt = U16(elf, off + 6);
                    uint aux = U32(elf, off + 12), next = U32(elf, off + 16);
                    if (cnt > 0)
                    {
                        Check(elf, off + aux, 8);
                        result.Add(Str(elf, strtab, U32(elf, off + aux)));
                    }
                    if (next == 0) break;
                    off += next;
                }
            }
            return result;
        }

        /// <summary>The flags of the version need <paramref name="versionName"/>, or null when the library does not need it.</summary>
        public static ushort? NeedFlags(byte[] elf, string versionName)
        {
            long at = FindVernaux(elf, versionName);
            return at < 0 ? null : U16(elf, at + 4);
        }

        /// <summary>Sets VER_FLG_WEAK on the need for <paramref name="versionName"/> in memory.</summary>
        public static PatchOutcome MarkWeak(byte[] elf, string versionName)
        {
            long at = FindVernaux(elf, versionName);
            if (at < 0) return PatchOutcome.EntryAbsent;
            ushort flags = U16(elf, at + 4);
            if ((flags & VerFlgWeak) != 0) return PatchOutcome.AlreadyWeak;
            flags |= VerFlgWeak;
            elf[at + 4] = (byte)(flags & 0xff);
            elf[at + 5] = (byte)(flags >> 8);
            return PatchOutcome.Patched;
        }

        /// <summary>
        /// Patches <paramref name="libraryPath"/> in place (through a temporary file and a rename, so a
        /// hard link into a package cache is never written through) when <paramref name="systemLibStdCxx"/>
        /// is null or lacks <paramref name="versionName"/>. Idempotent: an already weak entry leaves
        /// the file untouched.
        /// </summary>
        public static PatchOutcome PatchFile(string libraryPath, string versionName, string? systemLibStdCxx)
        {
            if (systemLibStdCxx != null && DefinedVersions(File.ReadAllBytes(systemLibStdCxx)).Contains(versionName))
                return PatchOutcome.NotNeeded;
            var bytes = File.ReadAllBytes(libraryPath);
            var outcome = MarkWeak(bytes, versionName);
            if (outcome != PatchOutcome.Patched) return outcome;
            var tmp = libraryPath + ".weak-tmp";
            File.WriteAllBytes(tmp, bytes);
            // Keep the copy's time stamp: MSBuild's incremental copy compares size and time with the
            // package's file, so the next build skips the copy and finds the entry already weak.
            File.SetLastWriteTimeUtc(tmp, File.GetLastWriteTimeUtc(libraryPath));
            File.Replace(tmp, libraryPath, null); // a rename: atomic, and it breaks any hard link
            return outcome;
        }

        static long FindVernaux(byte[] elf, string versionName)
        {
            var sections = Sections(elf);
            foreach (var sec in sections)
            {
                if (sec.Type != ShtGnuVerneed) continue;
                var strtab = sections[(int)sec.Link];
                long off = sec.Offset;
                for (uint i = 0; i < sec.Info; i++)
                {
                    Check(elf, off, 16);
                    ushort cnt = U16(elf, off + 2);
                    uint auxOff = U32(elf, off + 8), next = U32(elf, off + 12);
                    long aux = off + auxOff;
                    for (int j = 0; j < cnt; j++)
                    {
                        Check(elf, aux, 16);
                        if (Str(elf, strtab, U32(elf, aux + 8)) == versionName) return aux;
                        uint auxNext = U32(elf, aux + 12);
                        if (auxNext == 0) break;
                        aux += auxNext;
                    }
                    if (next == 0) break;
                    off += next;
                }
            }
            return -1;
        }

        public readonly struct Section
        {
            public Section(uint type, long offset, long size, uint link, uint info) { Type = type; Offset = offset; Size = size; Link = link; Info = info; }
            public uint Type { get; }
            public long Offset { get; }
            public long Size { get; }
            public uint Link { get; }
            public uint Info { get; }
        }

        public static List<Section> Sections(byte[] elf)
        {
            if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
                throw new InvalidDataException("not an ELF file");
            if (elf[4] != 2 || elf[5] != 1) throw new InvalidDataException("not a little-endian ELF64 file");
            long shoff = (long)U64(elf, 0x28);
            int shentsize = U16(elf, 0x3A), shnum = U16(elf, 0x3C);
            if (shoff == 0 || shentsize < 64) throw new InvalidDataException("ELF file has no section headers");
            var list = new List<Section>(shnum);
            for (int i = 0; i < shnum; i++)
            {
                long h = shoff + (long)i * shentsize;
                Check(elf, h, 64);
                list.Add(new Section(U32(elf, h + 4), (long)U64(elf, h + 24), (long)U64(elf, h + 32), U32(elf, h + 40), U32(elf, h + 44)));
            }
            return list;
        }

        static string Str(byte[] elf, Section strtab, uint index)
        {
            long start = strtab.Offset + index;
            Check(elf, start, 1);
            long end = start;
            while (end < elf.Length && elf[end] != 0) end++;
            return Encoding.ASCII.GetString(elf, (int)start, (int)(end - start));
        }

        static void Check(byte[] elf, long offset, long length)
        {
            if (offset < 0 || offset + length > elf.Length) throw new InvalidDataException("ELF structure points outside the file");
        }

        static ushort U16(byte[] b, long o) => (ushort)(b[o] | b[o + 1] << 8);
        static uint U32(byte[] b, long o) => (uint)(b[o] | b[o + 1] << 8 | b[o + 2] << 16 | b[o + 3] << 24);
        static ulong U64(byte[] b, long o) => U32(b, o) | (ulong)U32(b, o + 4) << 32;
    }

#if !DIFFUSE_TESTS
    /// <summary>
    /// MSBuild task: weakens the version need in each given library when the system needs it, or
    /// whatever the system has when <see cref="Always"/> is set (libraries bound for other machines).
    /// </summary>
    public sealed class WeakenVersionNeed : Microsoft.Build.Utilities.Task
    {
        [Microsoft.Build.Framework.Required] public Microsoft.Build.Framework.ITaskItem[] Libraries { get; set; } = Array.Empty<Microsoft.Build.Framework.ITaskItem>();
        [Microsoft.Build.Framework.Required] public string VersionName { get; set; } = "";
        public bool Always { get; set; }

        public override bool Execute()
        {
            string? system = Always ? null : ElfVersionNeed.FindSystemLibStdCxx();
            foreach (var item in Libraries)
            {
                try
                {
                    var outcome = ElfVersionNeed.PatchFile(item.ItemSpec, VersionName, system);
                    if (outcome == PatchOutcome.Patched)
                        Log.LogMessage(Microsoft.Build.Framework.MessageImportance.High,
                            Always ? $"Diffuse: marked the {VersionName} need of {item.ItemSpec} weak (a copy for other machines)"
                                   : $"Diffuse: marked the {VersionName} need of {item.ItemSpec} weak (system libstdc++ {system ?? "not found"} lacks it)");
                }
                catch (Exception e) when (e is IOException || e is InvalidDataException || e is UnauthorizedAccessException)
                {
                    Log.LogWarning($"Diffuse: could not check {item.ItemSpec} for {VersionName}: {e.Message}");
                }
            }
            return !Log.HasLoggedErrors;
        }
    }
#endif
}
