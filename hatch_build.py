"""Build hook: a wheel carries the course folder (notebooks/, exercises/, solutions/ and
constraints.txt) as course_utils/course/, so `python -m course_utils lab` has notebooks to serve
and the self-check knows the tested versions. An editable install copies nothing: it uses the
clone's own folders."""

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

COURSE_FILES = ("notebooks", "exercises", "solutions", "constraints.txt")


class CourseFilesHook(BuildHookInterface):
    def initialize(self, version, build_data):
        if self.target_name == "wheel" and version != "editable":
            for name in COURSE_FILES:
                build_data["force_include"][name] = f"course_utils/course/{name}"
